import { isIP } from 'node:net';
import { InvalidArgumentError, cidrContains, parseCidr } from '@steppe/shared';
import { CENSOR_CHAIN, NAMESPACE_INTERFACES, NAMESPACE_RANGE } from './topology.js';

/**
 * What the namespace tier's censor router does with packets: what only
 * packets can show, which the loopback tier cannot fake.
 *
 * Every rule acts on traffic between the probe and the world; the control's
 * interface is never matched.
 */
export type PacketRule =
  /** A SYN to the address answered by a RST (the client sees "connection refused"). */
  | { readonly kind: 'syn-reset'; readonly address: string; readonly port?: number }
  /** A SYN to the address dropped (the client's connect times out). */
  | { readonly kind: 'syn-drop'; readonly address: string; readonly port?: number }
  /** A packet carrying the name (the ClientHello's SNI) answered by a RST: string match, as DPI boxes do. */
  | { readonly kind: 'sni-reset'; readonly sni: string; readonly port?: number }
  /** A packet carrying the name dropped (the TLS handshake times out). */
  | { readonly kind: 'sni-drop'; readonly sni: string; readonly port?: number }
  /**
   * Traffic from the address to the probe policed to `bytesPerSecond` (excess
   * dropped), hashlimit in byte mode. iptables wants a burst of at least one
   * second of traffic (default: exactly that). Rates are capped at 64 000 B/s:
   * measured on Linux 6.x, hashlimit's byte accounting stops policing well
   * above that (100 000 B/s let ~900 kB/s through).
   */
  | { readonly kind: 'police'; readonly address: string; readonly bytesPerSecond: number; readonly burstBytes?: number }
  /** Every packet from and to the probe dropped: a network shutdown. */
  | { readonly kind: 'shutdown' };

const inRange = parseCidr(NAMESPACE_RANGE);

/** Highest rate the `police` rule accepts (see PacketRule). */
export const MAX_POLICED_RATE = 64_000;

function address(value: string, field: string): string {
  if (isIP(value) !== 4 || !cidrContains(inRange, value)) {
    throw new InvalidArgumentError(`${field}: ${JSON.stringify(value)} must be an IPv4 address inside ${NAMESPACE_RANGE}`);
  }
  return value;
}

function port(value: number | undefined, fallback: number | undefined, field: string): string[] {
  const chosen = value ?? fallback;
  if (chosen === undefined) return [];
  if (!Number.isInteger(chosen) || chosen < 1 || chosen > 65_535) throw new InvalidArgumentError(`${field}: expected a port from 1 to 65535`);
  return ['--dport', String(chosen)];
}

function sni(value: string): string {
  // A host name only: the string goes into an argv, never a shell, but keep it plain.
  if (!/^[a-z0-9.-]{1,253}$/i.test(value)) throw new InvalidArgumentError(`rule.sni: ${JSON.stringify(value)} is not a host name`);
  return value;
}

/**
 * The iptables rule specifications (what follows `-A STEPPE` or `-D STEPPE`)
 * for one packet rule. `id` names hashlimit tables, unique per rule.
 */
export function ruleSpecs(rule: PacketRule, id: number): string[][] {
  const fromProbe = ['-i', NAMESPACE_INTERFACES.censorToProbe];
  const toProbe = ['-o', NAMESPACE_INTERFACES.censorToProbe];
  const reset = ['-j', 'REJECT', '--reject-with', 'tcp-reset'];
  const drop = ['-j', 'DROP'];
  switch (rule.kind) {
    case 'syn-reset':
    case 'syn-drop':
      return [[...fromProbe, '-p', 'tcp', '-d', address(rule.address, 'rule.address'), ...port(rule.port, undefined, 'rule.port'), '--syn',
        ...(rule.kind === 'syn-reset' ? reset : drop)]];
    case 'sni-reset':
    case 'sni-drop':
      return [[...fromProbe, '-p', 'tcp', ...port(rule.port, 443, 'rule.port'), '-m', 'string', '--string', sni(rule.sni), '--algo', 'bm',
        ...(rule.kind === 'sni-reset' ? reset : drop)]];
    case 'police': {
      if (!Number.isInteger(rule.bytesPerSecond) || rule.bytesPerSecond < 1_000 || rule.bytesPerSecond > MAX_POLICED_RATE) {
        throw new InvalidArgumentError(`rule.bytesPerSecond: expected an integer from 1000 to ${MAX_POLICED_RATE}`);
      }
      const burst = rule.burstBytes ?? rule.bytesPerSecond;
      if (!Number.isInteger(burst) || burst < rule.bytesPerSecond || burst > 16 * rule.bytesPerSecond) {
        throw new InvalidArgumentError('rule.burstBytes: expected an integer from bytesPerSecond to 16 times it');
      }
      return [[...toProbe, '-s', address(rule.address, 'rule.address'), '-m', 'hashlimit',
        '--hashlimit-above', `${rule.bytesPerSecond}b/s`, '--hashlimit-burst', `${burst}b`,
        '--hashlimit-mode', 'srcip,dstip', '--hashlimit-name', `steppe${id}`, ...drop]];
    }
    case 'shutdown':
      return [[...fromProbe, ...drop], [...toProbe, ...drop]];
    default:
      throw new InvalidArgumentError(`rule.kind: unknown packet rule ${JSON.stringify((rule as { kind?: unknown }).kind)}`);
  }
}

/** `iptables` argument lists that add (`-A`) or delete (`-D`) a rule in the censor chain. */
export function iptablesCommands(action: '-A' | '-D', rule: PacketRule, id: number): string[][] {
  return ruleSpecs(rule, id).map((spec) => ['iptables', '-w', action, CENSOR_CHAIN, ...spec]);
}
