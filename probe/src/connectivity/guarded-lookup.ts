import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { dnsAddresses, dnsLookup, type EgressGuard, EgressDeniedError, type ResolverAddress, Trace } from '@steppe/shared';

/** Options of {@link guardedLookup}. */
export interface GuardedLookupOptions {
  /** The probe's own resolver (never the system's stub: its answers are not observed). */
  readonly resolver: ResolverAddress;
  readonly guard: EgressGuard;
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  /** Bytes of the DNS exchange, for the bandwidth budget. */
  readonly onTraffic?: (bytes: number) => void;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:net / node:http / ws that resolves a collector's name
 * with the probe's resolver (A, then AAAA) and hands back only addresses the
 * egress guard allows; when none is allowed it fails with EgressDeniedError
 * before any socket opens. IP literals are passed through the guard as is.
 */
export function guardedLookup(options: GuardedLookupOptions): LookupFunction {
  const lookup = (hostname: string, lookupOptions: { all?: boolean }, callback: LookupCallback): void => {
    void resolveAllowed(hostname, options).then(
      (addresses) => {
        const first = addresses[0];
        if (first === undefined) {
          callback(new EgressDeniedError(hostname), '', 0);
        } else if (lookupOptions.all === true) {
          callback(null, addresses);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), '', 0),
    );
  };
  return lookup as unknown as LookupFunction;
}

async function resolveAllowed(hostname: string, options: GuardedLookupOptions): Promise<LookupAddress[]> {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare) !== 0) return options.guard.allows(bare) ? [{ address: bare, family: isIP(bare) }] : [];
  const trace = new Trace();
  const found: LookupAddress[] = [];
  let lastFailure = '';
  try {
    for (const queryType of ['A', 'AAAA'] as const) {
      const query = await dnsLookup({
        hostname: bare,
        queryType,
        resolver: options.resolver,
        transport: 'udp',
        localAddress: options.localAddress,
        timeoutMs: options.timeoutMs,
        duplicateWindowMs: 0,
        guard: options.guard,
        trace,
      });
      lastFailure = query.failure;
      for (const address of dnsAddresses(query)) {
        if (options.guard.allows(address)) found.push({ address, family: isIP(address) });
      }
      if (found.length > 0) break;
    }
  } finally {
    options.onTraffic?.(trace.bytesSent + trace.bytesReceived);
  }
  if (found.length === 0 && lastFailure !== '') {
    const err: NodeJS.ErrnoException = new Error(`cannot resolve ${bare}: ${lastFailure}`);
    err.code = lastFailure === 'dns_nxdomain_error' ? 'ENOTFOUND' : 'EAI_AGAIN';
    throw err;
  }
  return found;
}
