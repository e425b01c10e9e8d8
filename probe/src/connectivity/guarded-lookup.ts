import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { resolveAddresses, type EgressGuard, EgressDeniedError, type ResolverAddress, Trace } from '@steppe/shared';

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
  let resolved;
  try {
    resolved = await resolveAddresses({
      hostname: bare,
      resolver: options.resolver,
      localAddress: options.localAddress,
      timeoutMs: options.timeoutMs,
      duplicateWindowMs: 0,
      guard: options.guard,
      trace,
      accept: (address) => options.guard.allows(address),
    });
  } finally {
    options.onTraffic?.(trace.bytesSent + trace.bytesReceived);
  }
  // Addresses that exist but are all outside --allow-net: EgressDeniedError (the caller's).
  if (resolved.addresses.length === 0 && resolved.failure !== '') {
    const err: NodeJS.ErrnoException = new Error(`cannot resolve ${bare}: ${resolved.failure}`);
    err.code = resolved.failure === 'dns_nxdomain_error' ? 'ENOTFOUND' : 'EAI_AGAIN';
    throw err;
  }
  return resolved.addresses.map((address) => ({ address, family: isIP(address) }));
}
