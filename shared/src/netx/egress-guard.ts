import { isIP } from 'node:net';
import { EgressDeniedError } from '../errors.js';
import { type Cidr, cidrContains, formatIp, inAnyCidr, parseCidr } from '../net/cidr.js';
import { BOGON_NETWORKS } from '../net/bogons.js';

/**
 * The egress allow-list (`--allow-net`). Every netx primitive asks it before
 * a socket opens — the resolver address, every connect, every redirect hop —
 * so a probe never sends a packet outside the networks its operator allowed.
 * A refusal is an `EgressDeniedError`, which `classifyError()` turns into the
 * `blocked_by_policy` failure recorded in the observation.
 */
export class EgressGuard {
  readonly #allow: readonly Cidr[];

  /** `allow`: the only networks a socket may be opened to. An empty list allows nothing. */
  constructor(allow: readonly Cidr[]) {
    this.#allow = [...allow];
  }

  /** The networks this guard allows. */
  get networks(): readonly Cidr[] {
    return this.#allow;
  }

  /** True when `ip` is an IP literal inside the allow-list (hostnames are never allowed). */
  allows(ip: string): boolean {
    return isIP(stripBrackets(ip)) !== 0 && inAnyCidr(this.#allow, stripBrackets(ip));
  }

  /** Throw `EgressDeniedError` unless `ip` is allowed. */
  assertAllowed(ip: string): void {
    if (!this.allows(ip)) throw new EgressDeniedError(ip);
  }
}

function stripBrackets(ip: string): string {
  return ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
}

let publicUnicastCache: readonly Cidr[] | undefined;

/**
 * The default allow-list when `--allow-net` is not given: every public
 * unicast address, i.e. all of IPv4 and the IPv6 global unicast block
 * 2000::/3 (RFC 4291 §2.4), minus every special-purpose range that
 * `isBogon()` knows (RFC 6890: private, loopback, link-local, documentation,
 * benchmarking, multicast, reserved). Expressed as plain CIDRs so it is an
 * ordinary allow-list.
 */
export function publicUnicastNetworks(): readonly Cidr[] {
  publicUnicastCache ??= [...complementOfBogons(parseCidr('0.0.0.0/0')), ...complementOfBogons(parseCidr('2000::/3'))];
  return publicUnicastCache;
}

// Split `block` in halves until each piece is wholly public or wholly inside
// a bogon network; both are CIDRs, so two networks either nest or are disjoint.
function complementOfBogons(block: Cidr): Cidr[] {
  if (BOGON_NETWORKS.some((b) => nests(b, block))) return [];
  if (!BOGON_NETWORKS.some((b) => nests(block, b))) return [block];
  const [low, high] = halves(block);
  return [...complementOfBogons(low), ...complementOfBogons(high)];
}

/** True when network `inner` lies inside network `outer`. */
function nests(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && cidrContains(outer, inner.bytes);
}

function halves(block: Cidr): [Cidr, Cidr] {
  const prefix = block.prefix + 1;
  const high = new Uint8Array(block.bytes);
  const idx = block.prefix >> 3;
  high[idx] = (high[idx] ?? 0) | (0x80 >> (block.prefix & 7));
  return [parseCidr(`${formatIp(block.bytes)}/${prefix}`), parseCidr(`${formatIp(high)}/${prefix}`)];
}
