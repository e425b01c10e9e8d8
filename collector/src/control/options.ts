import { parseCidr, publicUnicastNetworks, systemClock, systemResolver, type Cidr, type Clock, type ResolverAddress } from '@steppe/shared';

/** The ASN (and its operator's name) an address belongs to; AS0 when unknown. */
export interface AsnInfo {
  readonly asn: number;
  readonly asOrg: string;
}

/** Options of the control vantage (`POST /api/v1/control`). */
export interface ControlOptions {
  /** The control's own resolver; default: the first nameserver of /etc/resolv.conf. */
  readonly resolver?: ResolverAddress | undefined;
  /**
   * Networks the control may connect to (`--allow-net`); default every public
   * unicast address. Addresses a caller sends are checked too: the endpoint
   * never becomes a way into private networks. The resolver's own address is
   * always allowed for DNS.
   */
  readonly allowNet?: readonly Cidr[] | undefined;
  /** Source address every socket binds to (`--control-local-address`). */
  readonly localAddress?: string | undefined;
  /** PEM roots trusted besides Mozilla's (`--ca-file`, for the lab). */
  readonly extraCa?: readonly string[] | undefined;
  /** ASN of an address; default AS0 for all (collector/src/geo provides the real one). */
  readonly asnLookup?: ((ip: string) => AsnInfo | undefined) | undefined;
  readonly clock?: Clock | undefined;
  /** How long a result is reused for the same URL and addresses (default 60 s). */
  readonly cacheTtlMs?: number | undefined;
  /** Results kept at most (default 1000; the oldest go first). */
  readonly cacheMaxEntries?: number | undefined;
  /** Token bucket per client address: burst (default 30) and refill per second (default 1). */
  readonly rateLimit?: { readonly burst: number; readonly perSecond: number } | undefined;
  /** Measurements running at once (default 32); beyond, 503. */
  readonly maxConcurrent?: number | undefined;
  /** Timeout of each DNS query, connect and handshake (default 5 s). */
  readonly stepTimeoutMs?: number | undefined;
  /** Timeout of the whole HTTP redirect chain (default 15 s). */
  readonly httpTimeoutMs?: number | undefined;
  /** Body cap (default 512 KiB, as the probe). */
  readonly maxBodyBytes?: number | undefined;
  /** Reverse proxies whose X-Forwarded-For is believed for rate limiting. */
  readonly trustedProxies?: readonly Cidr[] | undefined;
  /** Aborts running measurements (server shutdown). */
  readonly signal?: AbortSignal | undefined;
}

/** ControlOptions with every default filled in. */
export interface ResolvedControlOptions {
  readonly resolver: ResolverAddress;
  readonly allowNet: readonly Cidr[];
  readonly localAddress: string | undefined;
  readonly extraCa: readonly string[] | undefined;
  readonly asnLookup: (ip: string) => AsnInfo;
  readonly clock: Clock;
  readonly cacheTtlMs: number;
  readonly cacheMaxEntries: number;
  readonly rateLimit: { readonly burst: number; readonly perSecond: number };
  readonly maxConcurrent: number;
  readonly stepTimeoutMs: number;
  readonly httpTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly trustedProxies: readonly Cidr[];
  readonly signal: AbortSignal | undefined;
}

/** Default time a control result is reused. */
export const CONTROL_CACHE_TTL_MS = 60_000;

const UNKNOWN_ASN: AsnInfo = { asn: 0, asOrg: '' };

/** Fill in the defaults. Reads /etc/resolv.conf only when no resolver is given. */
export function resolveControlOptions(options: ControlOptions = {}): ResolvedControlOptions {
  const lookup = options.asnLookup;
  return {
    resolver: options.resolver ?? systemResolver(),
    allowNet: options.allowNet ?? publicUnicastNetworks(),
    localAddress: options.localAddress,
    extraCa: options.extraCa,
    asnLookup: lookup === undefined ? () => UNKNOWN_ASN : (ip) => lookup(ip) ?? UNKNOWN_ASN,
    clock: options.clock ?? systemClock,
    cacheTtlMs: options.cacheTtlMs ?? CONTROL_CACHE_TTL_MS,
    cacheMaxEntries: options.cacheMaxEntries ?? 1000,
    rateLimit: options.rateLimit ?? { burst: 30, perSecond: 1 },
    maxConcurrent: options.maxConcurrent ?? 32,
    stepTimeoutMs: options.stepTimeoutMs ?? 5_000,
    httpTimeoutMs: options.httpTimeoutMs ?? 15_000,
    maxBodyBytes: options.maxBodyBytes ?? 512 * 1024,
    trustedProxies: options.trustedProxies ?? [],
    signal: options.signal,
  };
}

/** The allow-list for DNS: the sites' networks plus the configured resolver itself. */
export function dnsAllowList(options: ResolvedControlOptions): Cidr[] {
  return [...options.allowNet, parseCidr(options.resolver.host)];
}
