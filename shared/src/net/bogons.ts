import { type Cidr, inAnyCidr, parseCidr } from './cidr.js';

// Addresses a public name never legitimately resolves to: RFC 6890 special-
// purpose registries (IPv4 and IPv6). A DNS answer inside one of these is a
// bogon: the classic sign of DNS tampering (OONI's dns_bogon_error).
const BOGON_RANGES = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15',
  '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4', '255.255.255.255/32',
  '::/128', '::1/128', '::ffff:0:0/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32',
  'fc00::/7', 'fe80::/10', 'ff00::/8',
];

const BOGONS: readonly Cidr[] = BOGON_RANGES.map(parseCidr);

/** The special-purpose networks `isBogon()` tests against (RFC 6890). */
export const BOGON_NETWORKS: readonly Cidr[] = BOGONS;
const LOOPBACK: readonly Cidr[] = ['127.0.0.0/8', '::1/128'].map(parseCidr);

/** Options for bogon detection. */
export interface BogonOptions {
  /**
   * Treat addresses in these networks as normal public addresses. The lab
   * serves the "Internet" from loopback and 198.18.0.0/15, so its tests pass
   * those ranges here (`--lab-addresses`); production never does.
   */
  readonly allow?: readonly Cidr[];
}

/** True when `ip` is a bogon (private, loopback, link-local, reserved...). */
export function isBogon(ip: string, options: BogonOptions = {}): boolean {
  if (options.allow !== undefined && inAnyCidr(options.allow, ip)) return false;
  return inAnyCidr(BOGONS, ip);
}

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(ip: string): boolean {
  return inAnyCidr(LOOPBACK, ip);
}
