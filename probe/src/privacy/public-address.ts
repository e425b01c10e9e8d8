import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { CLIENT_ADDRESS_HEADER, isBogon } from '@steppe/shared';

/**
 * The probe's own addresses, to be scrubbed from every stored field. Sources:
 * the control's `x-steppe-client-address` echo (CLIENT_ADDRESS_HEADER, the
 * address as the Internet sees it, NAT included: learnt without asking any
 * third-party service, docs/privacy.md), and the machine's own public (non-bogon) interface
 * addresses (a VPS or a host with a public address and no NAT). Nothing is
 * looked up from an outside service: learning it must not itself identify the
 * volunteer to anyone.
 *
 * Held in memory only; never written to disk or logs.
 */
export class PublicAddressSet {
  readonly #addresses = new Set<string>();

  /** Record an address seen; anything that is not an IP literal is ignored. Returns true when it is new. */
  add(address: string): boolean {
    const canonical = canonicalIp(address);
    if (canonical === undefined || this.#addresses.has(canonical)) return false;
    this.#addresses.add(canonical);
    return true;
  }

  /** Record the address echoed in a control response's headers, if any. */
  learnFromHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
    const value = headers[CLIENT_ADDRESS_HEADER];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined ? false : this.add(first.trim());
  }

  /** Record the machine's public (non-bogon) interface addresses. */
  learnFromInterfaces(interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): void {
    for (const list of Object.values(interfaces)) {
      for (const info of list ?? []) {
        if (!info.internal && !isBogon(info.address)) this.add(info.address);
      }
    }
  }

  /** Number of addresses known. */
  get size(): number {
    return this.#addresses.size;
  }

  /** Every textual form under which each address may appear in stored text. */
  scrubForms(): string[] {
    const forms = new Set<string>();
    for (const address of this.#addresses) {
      for (const form of textualForms(address)) forms.add(form);
    }
    // Longest first, so "::ffff:1.2.3.4" is replaced before "1.2.3.4".
    return [...forms].sort((a, b) => b.length - a.length);
  }
}

function canonicalIp(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped?.[1] !== undefined) return mapped[1];
    return compressIpv6(expandIpv6(bare));
  }
  return undefined;
}

/** The 8 groups of an IPv6 address, each 4 lowercase hex digits. */
function expandIpv6(address: string): string[] {
  const zoneless = address.split('%')[0] ?? address;
  let text = zoneless.toLowerCase();
  // An embedded IPv4 tail becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return groups.map((g) => g.padStart(4, '0'));
}

/** RFC 5952 text form: lowercase, leading zeros dropped, longest zero run as "::". */
function compressIpv6(groups: string[]): string {
  const short = groups.map((g) => g.replace(/^0+(?=.)/, ''));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < short.length; ) {
    if (short[i] !== '0') {
      i += 1;
      continue;
    }
    let j = i;
    while (j < short.length && short[j] === '0') j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return short.join(':');
  return `${short.slice(0, bestStart).join(':')}::${short.slice(bestStart + bestLength).join(':')}`;
}

function textualForms(address: string): string[] {
  if (isIP(address) === 4) {
    return [address, `::ffff:${address}`, `::FFFF:${address}`, address.split('.').join('-')];
  }
  const groups = expandIpv6(address);
  const compressed = compressIpv6(groups);
  const unpadded = groups.map((g) => g.replace(/^0+(?=.)/, '')).join(':');
  const forms = [compressed, groups.join(':'), unpadded];
  return [...forms, ...forms.map((f) => f.toUpperCase())];
}
