import { isIP } from 'node:net';
import { InvalidArgumentError } from '../errors.js';

/** An IPv4 or IPv6 network in CIDR form. */
export interface Cidr {
  readonly family: 4 | 6;
  /** Network address bytes (4 or 16), host bits zeroed. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical text, e.g. "127.0.0.0/8". */
  readonly text: string;
}

/** Parse an IP address to its bytes (IPv4-mapped IPv6 stays IPv6). Undefined if not an IP. */
export function ipToBytes(ip: string): Uint8Array | undefined {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip.split('%')[0] ?? ip;
  const family = isIP(bare);
  if (family === 4) {
    return new Uint8Array(bare.split('.').map((p) => Number(p)));
  }
  if (family === 6) {
    return ipv6ToBytes(bare);
  }
  return undefined;
}

function ipv6ToBytes(ip: string): Uint8Array {
  let text = ip;
  const out = new Uint8Array(16);
  // Trailing dotted quad (::ffff:1.2.3.4).
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let tailBytes: number[] = [];
  if (tail.includes('.')) {
    tailBytes = tail.split('.').map((p) => Number(p));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head.length > 0 ? head.split(':') : [];
  const restGroups = rest !== undefined && rest.length > 0 ? rest.split(':') : [];
  const groups = rest === undefined
    ? headGroups
    : [...headGroups, ...Array<string>(8 - headGroups.length - restGroups.length).fill('0'), ...restGroups];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  if (tailBytes.length === 4) out.set(tailBytes, 12);
  return out;
}

/** Parse "addr/prefix" (or a bare address, meaning a single host). */
export function parseCidr(text: string): Cidr {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const addr = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const bytes = ipToBytes(addr);
  if (bytes === undefined) {
    throw new InvalidArgumentError(`not a CIDR: ${JSON.stringify(text)} (expected e.g. 127.0.0.0/8 or ::1/128)`);
  }
  const family: 4 | 6 = bytes.length === 4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : trimmed.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new InvalidArgumentError(`not a CIDR: ${JSON.stringify(text)} (prefix must be 0-${max})`);
  }
  const network = new Uint8Array(bytes);
  for (let bit = prefix; bit < max; bit += 1) {
    const idx = bit >> 3;
    network[idx] = (network[idx] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return { family, bytes: network, prefix, text: `${formatIp(network)}/${prefix}` };
}

/** Parse a comma-separated list of CIDRs ("127.0.0.0/8,::1/128"). */
export function parseCidrList(text: string): Cidr[] {
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (parts.length === 0) {
    throw new InvalidArgumentError('empty CIDR list (expected e.g. 127.0.0.0/8,::1/128)');
  }
  return parts.map(parseCidr);
}

/** True when `ip` lies inside `cidr`. IPv4-mapped IPv6 addresses match IPv4 networks. */
export function cidrContains(cidr: Cidr, ip: string | Uint8Array): boolean {
  let bytes = typeof ip === 'string' ? ipToBytes(ip) : ip;
  if (bytes === undefined) return false;
  if (bytes.length === 16 && cidr.family === 4 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  if (bytes.length !== cidr.bytes.length) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i += 1) if (bytes[i] !== cidr.bytes[i]) return false;
  const rem = cidr.prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return ((bytes[full] ?? 0) & mask) === (cidr.bytes[full] ?? 0);
}

/** True when `ip` lies in any of `cidrs`. */
export function inAnyCidr(cidrs: readonly Cidr[], ip: string): boolean {
  const bytes = ipToBytes(ip);
  return bytes !== undefined && cidrs.some((c) => cidrContains(c, bytes));
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i += 1) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/** Text form of 4 or 16 address bytes (IPv6 compressed per RFC 5952). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i += 1; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j += 1;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
