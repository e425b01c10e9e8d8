import { isIP } from 'node:net';
import {
  EgressGuard,
  type Measurement,
  ObservedFailure,
  type ResolverAddress,
  Trace,
  type VerdictReference,
  deadline,
  dnsAddresses,
  dnsLookup,
  httpGet,
  isFailure,
  newId,
  tcpConnect,
  tlsHandshake,
  verdictFor,
  wire,
} from '@steppe/shared';
import type { steppe } from '@steppe/proto';
import { type ControlResponse, fetchControl } from '../../control-client.js';
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../../version.js';
import { type EngineOptions, type Target, stepTimeouts } from '../engine-options.js';
import { withRetry } from './retry.js';

/** test_name and version of this experiment. */
export const WEB_CONNECTIVITY = { name: 'web_connectivity', version: '0.1.0' } as const;

// Addresses connected to per target: enough to see every distinct answer
// (an injected one and the genuine ones), bounded so a target with dozens of
// records cannot eat the budget.
const MAX_ADDRESSES = 8;

/** One finished measurement and the traffic it cost (for the volunteer's budget). */
export interface WebConnectivityResult {
  readonly measurement: Measurement;
  readonly traffic: { readonly bytesSent: number; readonly bytesReceived: number };
  /** The probe's public address, if the control echoed it: only used to scrub it. */
  readonly clientAddress?: string;
}

/** What one run shares across targets. */
export interface WebConnectivityContext {
  readonly options: EngineOptions;
  readonly guard: EgressGuard;
  readonly reference: VerdictReference;
  /** Aborts the whole run (e.g. the daemon stopping). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * The web_connectivity experiment (OONI-like, ooni/spec ts-017): for one URL,
 * resolve A and AAAA with the configured (system) resolver, and with any
 * third-party resolvers alongside; connect to every address,
 * for https run a TLS handshake with the domain's SNI and one with a control
 * SNI to each address, then GET the URL following redirects; meanwhile ask
 * the control vantage to measure the same URL. A failed step is retried once.
 * The verdict comes from `verdictFor` over what was observed. The per-target
 * budget bounds everything. Network failures are data; this only throws on
 * a URL it cannot measure at all.
 */
export async function measureWebConnectivity(target: Target, ctx: WebConnectivityContext): Promise<WebConnectivityResult> {
  const { options, guard } = ctx;
  const url = new URL(target.url);
  const https = url.protocol === 'https:';
  const domain = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port !== '' ? Number(url.port) : https ? 443 : 80;
  const steps = stepTimeouts(options.perTargetTimeoutMs);
  const trace = new Trace(options.clock !== undefined ? { clock: options.clock } : {});
  const controlTrace = new Trace();
  const budget = deadline(options.perTargetTimeoutMs, ctx.signal);
  const signal = budget.signal;
  const local = options.localAddress;
  const extraCa = options.extraCaPem;
  const retry = <T extends { failure: string }>(run: (attempt: number) => Promise<T>): Promise<T> =>
    withRetry(run, (r) => r.failure, { delayMs: steps.retryDelayMs, signal });

  let control: ControlResponse | undefined;
  try {
    // 1. DNS, unless the URL names an address.
    let addresses: string[];
    let firstAddress: string | undefined;
    if (isIP(domain) !== 0) {
      addresses = [domain];
      firstAddress = domain;
    } else {
      const lookup = (queryType: 'A' | 'AAAA', resolver: ResolverAddress, thirdPartyResolver: boolean) =>
        retry((attempt) =>
          dnsLookup({ hostname: domain, queryType, resolver, transport: 'udp', localAddress: local, timeoutMs: steps.dnsMs, signal, guard, trace, attempt, thirdPartyResolver }),
        );
      const both = (resolver: ResolverAddress, thirdParty: boolean) => Promise.all([lookup('A', resolver, thirdParty), lookup('AAAA', resolver, thirdParty)]);
      // The system resolver and the third-party ones are asked at once.
      const [system, ...others] = await Promise.all([both(options.resolver, false), ...(options.thirdPartyResolvers ?? []).map((r) => both(r, true))]);
      const answered = [system, ...others].find(([a, aaaa]) => dnsAddresses(a).length + dnsAddresses(aaaa).length > 0) ?? system;
      // The system resolver's addresses, or a third party's when it has none (ts-017 E003): then the
      // page fetched through them shows whether circumvention works.
      const [a, aaaa] = answered;
      firstAddress = dnsAddresses(a)[0] ?? dnsAddresses(aaaa)[0];
      addresses = unique([...dnsAddresses(a, { allResponses: true }), ...dnsAddresses(aaaa, { allResponses: true })]).slice(0, MAX_ADDRESSES);
    }

    // 2. The control measures the same URL (and our addresses) from its side, alongside.
    const controlDone =
      options.controlUrl === undefined
        ? Promise.resolve(undefined)
        : fetchControl({
            controlUrl: options.controlUrl,
            url: target.url,
            addresses,
            guard,
            resolver: options.resolver,
            localAddress: local,
            extraCa,
            timeoutMs: steps.controlMs,
            signal,
            trace: controlTrace,
          });

    // 3. TCP to every address, then TLS (control SNI first, so a censor's
    // reaction to the real SNI cannot spoil it), per address in parallel.
    await Promise.all(
      addresses.map(async (ip) => {
        const tcp = await retry((attempt) => tcpConnect({ ip, port, localAddress: local, timeoutMs: steps.tcpMs, signal, guard, trace, attempt }));
        if (!https || tcp.failure !== '') return;
        const handshake = (serverName: string, controlSni: boolean) =>
          retry((attempt) =>
            tlsHandshake({ ip, port, serverName, extraCa, localAddress: local, timeoutMs: steps.tlsMs, signal, guard, trace, controlSni, attempt }),
          );
        await handshake(options.controlSni, true);
        await handshake(domain, false);
      }),
    );

    // 4. The page itself, redirects followed, at the first address a stub resolver would use.
    if (firstAddress !== undefined) {
      const resolveHop = async (hostname: string): Promise<string[]> => {
        for (const queryType of ['A', 'AAAA'] as const) {
          const q = await dnsLookup({ hostname, queryType, resolver: options.resolver, transport: 'udp', localAddress: local, timeoutMs: steps.dnsMs, signal, guard, trace });
          const found = dnsAddresses(q);
          if (found.length > 0) return found;
          if (queryType === 'AAAA') throw new ObservedFailure(isFailure(q.failure) ? q.failure : 'dns_no_answer');
        }
        return [];
      };
      const chosen = firstAddress;
      await retry(async (attempt) => {
        const hops = await httpGet({
          url: target.url,
          resolve: resolveHop,
          firstAddress: chosen,
          localAddress: local,
          maxBodyBytes: options.maxBodyBytes,
          timeoutMs: steps.httpMs,
          extraCa,
          signal,
          guard,
          trace,
          attempt,
        });
        return { failure: hops.at(-1)?.failure ?? '' };
      });
    }
    control = await controlDone;
  } finally {
    budget.dispose();
  }

  const observations = trace.observations();
  const controlMeasurement: steppe.v1.ControlMeasurement.$Properties | null = control?.control ?? null;
  const analysis = verdictFor({
    measurement: { input: target.url, domain, observations, control: controlMeasurement },
    reference: ctx.reference,
    options: options.labAddresses !== undefined ? { labAddresses: options.labAddresses } : {},
  });
  const measurement = wire.Measurement.create({
    id: newId(trace.startTimeMs),
    probeId: options.probeId,
    testName: WEB_CONNECTIVITY.name,
    testVersion: WEB_CONNECTIVITY.version,
    softwareName: SOFTWARE_NAME,
    softwareVersion: SOFTWARE_VERSION,
    startTimeMs: trace.startTimeMs,
    runtimeMs: trace.elapsedMs(),
    input: target.url,
    domain,
    categoryCode: target.categoryCode ?? '',
    testList: target.testList ?? '',
    testListVersion: target.testListVersion ?? '',
    observations: wire.Observations.create(observations),
    ...(controlMeasurement !== null ? { control: wire.ControlMeasurement.create(controlMeasurement) } : {}),
    analysis: wire.Analysis.create(analysis),
    annotations: { platform: process.platform, control_sni: options.controlSni },
  });
  return {
    measurement,
    traffic: {
      bytesSent: trace.bytesSent + controlTrace.bytesSent,
      bytesReceived: trace.bytesReceived + controlTrace.bytesReceived,
    },
    ...(control?.clientAddress !== undefined ? { clientAddress: control.clientAddress } : {}),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
