import { isIP } from 'node:net';
import {
  CLIENT_ADDRESS_HEADER,
  CONTROL_PATH,
  type EgressGuard,
  type ResolverAddress,
  Trace,
  ObservedFailure,
  resolveAddresses,
  controlMeasurementFromJson,
  controlRequestToJson,
  endpointUrl,
  failureOf,
  isFailure,
  pinnedClient,
  wire,
  withDeadline,
} from '@steppe/shared';
import type { steppe } from '@steppe/proto';

// A control answer is a few KiB; anything far larger is not one.
const MAX_CONTROL_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Options of `fetchControl`. */
export interface ControlRequestOptions {
  /** The collector's base URL, e.g. http://127.0.0.1:8080 (`--control`). */
  readonly controlUrl: string;
  /** The URL being measured. */
  readonly url: string;
  /** The addresses the probe resolved for it: the control looks up their ASNs and connects to them too. */
  readonly addresses: readonly string[];
  readonly guard: EgressGuard;
  /** Used only when the control URL names a host: resolved with the probe's own resolver, never system DNS. */
  readonly resolver: ResolverAddress;
  readonly localAddress?: string | undefined;
  readonly extraCa?: readonly string[] | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /**
   * Counts the bytes of the call (the volunteer's budget). Not the
   * measurement's trace: talking to the control is not an observation.
   */
  readonly trace: Trace;
}

/** What the control vantage returned. */
export interface ControlResponse {
  /** The control measurement; `failure` set (and `helper`) when none could be obtained. */
  readonly control: steppe.v1.ControlMeasurement;
  /** The probe's address as the control saw it, when echoed: only ever used to scrub it. */
  readonly clientAddress?: string;
}

/**
 * Ask the control vantage to measure `url` from its uncensored side:
 * POST {controlUrl}/api/v1/control with a ControlRequest, the answer a
 * ControlMeasurement, both in their JSON form (@steppe/shared
 * control-messages.ts). Goes through the egress guard like
 * every other socket. Never throws: an unreachable or broken helper yields a
 * ControlMeasurement whose `failure` says why.
 */
export async function fetchControl(options: ControlRequestOptions): Promise<ControlResponse> {
  const helper = options.controlUrl;
  try {
    return await withDeadline(options.timeoutMs, options.signal, (signal) => callControl(options, signal));
  } catch (err) {
    return { control: wire.ControlMeasurement.create({ failure: failureOf(err), helper }) };
  }
}

async function callControl(options: ControlRequestOptions, signal: AbortSignal): Promise<ControlResponse> {
  const base = new URL(options.controlUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ObservedFailure('unknown_failure: control URL must be http:// or https://');
  const endpoint = endpointUrl(base, CONTROL_PATH);
  const host = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const ip = isIP(host) !== 0 ? host : await resolveControlHost(host, options, signal);
  const port = base.port !== '' ? Number(base.port) : base.protocol === 'https:' ? 443 : 80;
  const pinned = pinnedClient({
    origin: new URL(base.origin),
    ip,
    port,
    alpn: ['http/1.1'],
    extraCa: options.extraCa,
    localAddress: options.localAddress,
    guard: options.guard,
    trace: options.trace,
    signal,
    timeoutMs: options.timeoutMs,
  });
  try {
    const response = await pinned.client.request({
      path: `${endpoint.pathname}${endpoint.search}`,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(controlRequestToJson({ url: options.url, addresses: [...options.addresses] })),
      signal,
    });
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length > MAX_CONTROL_RESPONSE_BYTES) throw new ObservedFailure('unknown_failure: control response too large');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (response.statusCode !== 200) {
      throw new ObservedFailure(`unknown_failure: control helper answered HTTP ${response.statusCode}${errorDetail(text)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ObservedFailure('unknown_failure: control response is not JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ObservedFailure('unknown_failure: control response is not a JSON object');
    }
    const control = controlMeasurementFromJson(parsed as Record<string, unknown>);
    if (control === undefined) throw new ObservedFailure('unknown_failure: control response is not a ControlMeasurement');
    if (control.helper === '') control.helper = options.controlUrl;
    const echoed = response.headers[CLIENT_ADDRESS_HEADER];
    const clientAddress = Array.isArray(echoed) ? echoed[0] : echoed;
    return clientAddress !== undefined && isIP(clientAddress.trim()) !== 0 ? { control, clientAddress: clientAddress.trim() } : { control };
  } finally {
    await pinned.client.destroy().catch(() => undefined);
  }
}

function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { code?: unknown };
    return typeof body.code === 'string' ? ` (${body.code.slice(0, 64)})` : '';
  } catch {
    return '';
  }
}

async function resolveControlHost(host: string, options: ControlRequestOptions, signal: AbortSignal): Promise<string> {
  const { addresses, failure } = await resolveAddresses({
    hostname: host,
    resolver: options.resolver,
    localAddress: options.localAddress,
    timeoutMs: Math.min(options.timeoutMs, 5000),
    duplicateWindowMs: 0,
    signal,
    guard: options.guard,
    trace: options.trace,
  });
  const address = addresses[0];
  if (address === undefined) throw new ObservedFailure(isFailure(failure) ? failure : 'dns_no_answer');
  return address;
}
