import { dnsAddresses } from './dns-message.js';
import { type DnsLookupOptions, dnsLookup } from './dns.js';

/** Options of {@link resolveAddresses}: a dnsLookup's, less the query type and transport it picks. */
export interface ResolveAddressesOptions extends Omit<DnsLookupOptions, 'queryType' | 'transport' | 'attempt'> {
  /** Only addresses this accepts count (e.g. the egress guard's `allows`); AAAA is asked when A gave none. */
  readonly accept?: ((address: string) => boolean) | undefined;
}

/** What {@link resolveAddresses} found. */
export interface ResolvedAddresses {
  readonly addresses: string[];
  /**
   * Empty when addresses were found, or when the resolver answered with
   * addresses that `accept` refused; otherwise the last query's failure
   * (`dns_no_answer` for an empty answer).
   */
  readonly failure: string;
}

/**
 * A host's addresses for the probe's own connections (a control vantage, a
 * collector, a connectivity check), through the probe's resolver rather than
 * the system's: A over UDP, then AAAA only when A gave nothing usable. Every
 * query is recorded in `trace`; measuring a target's DNS is the experiments'
 * job, which asks both types and keeps the observations.
 */
export async function resolveAddresses(options: ResolveAddressesOptions): Promise<ResolvedAddresses> {
  const { accept, ...lookup } = options;
  let failure = '';
  for (const queryType of ['A', 'AAAA'] as const) {
    const query = await dnsLookup({ ...lookup, queryType, transport: 'udp' });
    const answered = dnsAddresses(query);
    const addresses = accept === undefined ? answered : answered.filter(accept);
    if (addresses.length > 0) return { addresses, failure: '' };
    failure = query.failure !== '' ? query.failure : answered.length === 0 ? 'dns_no_answer' : '';
  }
  return { addresses: [], failure };
}
