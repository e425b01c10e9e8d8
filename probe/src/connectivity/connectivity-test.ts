import { isIP } from 'node:net';
import {
  CLIENT_ADDRESS_HEADER,
  CONTROL_PATH,
  type Clock,
  endpointUrl,
  resolveAddresses,
  type EgressGuard,
  failureOf,
  type HttpHeaderObservation,
  type HttpRequestObservation,
  type MeasurementProps,
  newHttpObservation,
  newId,
  pinnedClient,
  type ResolverAddress,
  systemClock,
  tcpConnect,
  tlsHandshake,
  Trace,
  withDeadline,
} from '@steppe/shared';
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../version.js';

/** `test_name` of the probe's own connectivity measurement. */
export const CONNECTIVITY_TEST_NAME = 'connectivity';
export const CONNECTIVITY_TEST_VERSION = '0.1.0';

// Response headers kept in the observation (never the address echo).
const KEPT_HEADERS = ['server', 'content-type', 'content-length', 'via', 'location'];

/** Options of {@link measureConnectivity}. */
export interface ConnectivityOptions {
  /** A collector or control base URL (http(s)://host:port). */
  readonly baseUrl: string;
  /** Which role this URL plays for the probe (annotation). */
  readonly role: 'control' | 'collector';
  readonly probeId: string;
  readonly resolver: ResolverAddress;
  readonly guard: EgressGuard;
  readonly localAddress?: string | undefined;
  readonly extraCaPem?: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly clock?: Clock;
}

/** The connectivity measurement and what the probe learned from it. */
export interface ConnectivityResult {
  readonly measurement: MeasurementProps;
  /** True when an HTTP answer (any status) came back from the host. */
  readonly reachable: boolean;
  /** The probe's address as the collector saw it (x-steppe-client-address), used only to scrub it. */
  readonly clientAddress?: string;
  /** Bytes moved, for the bandwidth budget. */
  readonly bytesMoved: number;
}

/**
 * Can the probe reach its collector / control at all? Measured every run and
 * stored like any measurement, so that during a total shutdown the outbox
 * keeps a time series of "unreachable" (DNS, TCP, TLS and HTTP steps to the
 * host, with their failures) that reaches the collector once the network is
 * back: a shutdown shows up as such, not as a gap.
 *
 * Analysis: `accessible` when the host answered HTTP; otherwise no verdict
 * (the probe cannot tell censorship from an outage without a control it
 * cannot reach), `anomaly` true, and the failure of the first failing step.
 */
export async function measureConnectivity(options: ConnectivityOptions): Promise<ConnectivityResult> {
  const clock = options.clock ?? systemClock;
  const trace = new Trace({ clock });
  const base = new URL(options.baseUrl);
  const https = base.protocol === 'https:';
  const host = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const port = base.port !== '' ? Number(base.port) : https ? 443 : 80;
  let failure = '';
  let failedStep = '';
  let reachable = false;
  let clientAddress: string | undefined;
  const evidence: string[] = [];

  await withDeadline(options.timeoutMs, options.signal, async (signal) => {
    const stepMs = Math.max(500, Math.floor(options.timeoutMs / 3));
    // DNS (only for a name): A, then AAAA.
    let addresses: string[] = [];
    if (isIP(host) !== 0) {
      addresses = [host];
    } else {
      const resolved = await resolveAddresses({ hostname: host, resolver: options.resolver, localAddress: options.localAddress, timeoutMs: stepMs, signal, guard: options.guard, trace });
      addresses = resolved.addresses;
      if (addresses.length === 0) {
        failure = resolved.failure !== '' ? resolved.failure : 'dns_no_answer';
        failedStep = 'dns';
      }
    }
    // TCP to each address (at most 2), then TLS and HTTP to the first that connects.
    let connected: string | undefined;
    for (const ip of addresses.slice(0, 2)) {
      const tcp = await tcpConnect({ ip, port, localAddress: options.localAddress, timeoutMs: stepMs, signal, guard: options.guard, trace });
      if (tcp.failure === '') {
        connected ??= ip;
      } else if (failure === '') {
        failure = tcp.failure;
        failedStep = 'tcp_connect';
      }
    }
    if (connected === undefined) return;
    failure = '';
    failedStep = '';
    if (https) {
      const tls = await tlsHandshake({
        ip: connected,
        port,
        serverName: host,
        extraCa: options.extraCaPem,
        localAddress: options.localAddress,
        timeoutMs: stepMs,
        signal,
        guard: options.guard,
        trace,
      });
      const tlsFailure = tls.failure !== '' ? tls.failure : tls.verificationError;
      if (tlsFailure !== '') {
        failure = tlsFailure;
        failedStep = 'tls_handshake';
        return;
      }
    }
    const http = await httpProbe(base, connected, port, options, trace, signal, stepMs);
    trace.addHttpRequest(http.observation);
    if (http.observation.failure !== '') {
      failure = http.observation.failure;
      failedStep = 'http_request';
      return;
    }
    reachable = true;
    clientAddress = http.clientAddress;
  }).catch((err: unknown) => {
    if (failure === '') {
      failure = failureOf(err);
      failedStep ||= 'dns';
    }
  });

  if (reachable) evidence.push(`${options.role} answered HTTP`);
  else evidence.push(`${options.role} unreachable: ${failedStep || 'unknown step'} ${failure}`.trim());
  const measurement: MeasurementProps = {
    id: newId(Math.max(1, Math.round(trace.startTimeMs))),
    probeId: options.probeId,
    testName: CONNECTIVITY_TEST_NAME,
    testVersion: CONNECTIVITY_TEST_VERSION,
    softwareName: SOFTWARE_NAME,
    softwareVersion: SOFTWARE_VERSION,
    startTimeMs: trace.startTimeMs,
    runtimeMs: trace.elapsedMs(),
    input: options.baseUrl,
    domain: host,
    observations: trace.observations(),
    analysis: {
      verdict: reachable ? 'accessible' : '',
      accessible: reachable,
      anomaly: !reachable,
      failure: reachable ? '' : failure,
      failedStep: reachable ? '' : failedStep,
      evidence,
    },
    annotations: { connectivity_role: options.role },
  };
  return {
    measurement,
    reachable,
    ...(clientAddress !== undefined ? { clientAddress } : {}),
    bytesMoved: trace.bytesSent + trace.bytesReceived,
  };
}

async function httpProbe(
  base: URL,
  ip: string,
  port: number,
  options: ConnectivityOptions,
  trace: Trace,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ observation: HttpRequestObservation; clientAddress?: string }> {
  // The control endpoint: a GET gets 405, which proves reachability.
  const url = endpointUrl(base, CONTROL_PATH);
  const observation: HttpRequestObservation = {
    ...newHttpObservation(url.toString(), trace.elapsedMs(), 0),
    address: isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`,
    httpVersion: 'http/1.1',
  };
  const pinned = pinnedClient({
    origin: new URL(base.origin),
    ip,
    port,
    alpn: ['http/1.1'],
    extraCa: options.extraCaPem,
    localAddress: options.localAddress,
    guard: options.guard,
    trace,
    signal,
    timeoutMs,
  });
  let clientAddress: string | undefined;
  try {
    const response = await pinned.client.request({ path: `${url.pathname}${url.search}`, method: 'GET', signal });
    let length = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) length += chunk.length;
    observation.statusCode = response.statusCode;
    observation.bodyLength = length;
    const headers: HttpHeaderObservation[] = [];
    for (const name of KEPT_HEADERS) {
      const value = response.headers[name];
      if (typeof value === 'string') headers.push({ name, value });
    }
    observation.responseHeaders = headers;
    const echoed = response.headers[CLIENT_ADDRESS_HEADER];
    const first = (Array.isArray(echoed) ? echoed[0] : echoed)?.trim();
    if (first !== undefined && isIP(first) !== 0) clientAddress = first;
  } catch (err) {
    observation.failure = failureOf(err);
  } finally {
    observation.t1Ms = trace.elapsedMs();
    await pinned.client.destroy().catch(() => undefined);
  }
  return clientAddress !== undefined ? { observation, clientAddress } : { observation };
}
