import type { steppe } from '@steppe/proto';

/**
 * Comparison of the probe's HTTP(S) response with the control's, after
 * OONI's web_connectivity (ooni/spec nettests/ts-017-web-connectivity.md):
 * status code, body length proportion, title words, header names; and the
 * throughput of the body download.
 */

type HttpRequest = steppe.v1.HttpRequest.$Properties;
type ControlHttp = steppe.v1.ControlHttp.$Properties;

/** Body length proportion below which bodies count as different (OONI's 0.7). */
export const BODY_PROPORTION_THRESHOLD = 0.7;

/** Title words shorter than this are ignored (articles, "the", "and"...). */
export const TITLE_WORD_MIN_LENGTH = 4;

/** Probe throughput below this fraction of the control's is throttling. */
export const THROTTLING_RATIO = 0.1;

/**
 * Both bodies must be at least this long for a throughput comparison: on a
 * small body the figure is dominated by round trips, not bandwidth.
 */
export const THROTTLING_MIN_BYTES = 32 * 1024;

/**
 * The probe's download must also have lasted at least this long. A transfer
 * of a few hundred kilobytes takes milliseconds on a good link, and then one
 * event-loop pause or scheduling hiccup divides the measured throughput by
 * ten: the ratio says nothing. Throttling as censors apply it (policing to
 * ~100 kbit/s) stretches the same download to seconds.
 */
export const THROTTLING_MIN_DURATION_MS = 1_000;

/** Headers every server sends; their presence says nothing about who answered. */
const COMMON_HEADERS: ReadonlySet<string> = new Set([
  'date', 'content-type', 'content-length', 'connection', 'server', 'cache-control', 'expires', 'last-modified',
  'etag', 'accept-ranges', 'vary', 'set-cookie', 'transfer-encoding', 'location', 'content-encoding', 'keep-alive',
  'age', 'pragma', 'x-cache', 'via', 'alt-svc', 'strict-transport-security',
]);

/** Lowercase words of a title, split on anything that is not a letter or digit, of at least TITLE_WORD_MIN_LENGTH. */
export function titleWords(title: string): Set<string> {
  return new Set(
    title
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => [...w].length >= TITLE_WORD_MIN_LENGTH),
  );
}

/**
 * Whether two titles share a word. Undefined when the control's title has no
 * word to compare (an empty or very short title is no evidence either way).
 */
export function titlesShareWord(probeTitle: string, controlTitle: string): boolean | undefined {
  const control = titleWords(controlTitle);
  if (control.size === 0) return undefined;
  const probe = titleWords(probeTitle);
  for (const w of probe) if (control.has(w)) return true;
  return false;
}

/** min/max of two body lengths: 1 for equal lengths (two empty bodies included), 0 when one is empty. */
export function bodyProportion(a: number, b: number): number {
  const max = Math.max(a, b);
  return max === 0 ? 1 : Math.min(a, b) / max;
}

/**
 * Whether the uncommon header names the probe recorded were also sent to the
 * control (OONI's headers_match, on names only). Undefined when the probe
 * recorded no uncommon header.
 */
export function headersMatch(probeHeaders: readonly string[], controlHeaders: readonly string[]): boolean | undefined {
  const uncommon = probeHeaders.map((h) => h.toLowerCase()).filter((h) => !COMMON_HEADERS.has(h));
  if (uncommon.length === 0) return undefined;
  const control = new Set(controlHeaders.map((h) => h.toLowerCase()));
  return uncommon.every((h) => control.has(h));
}

/** How the probe's final response compares with the control's. */
export interface HttpComparison {
  readonly identicalBody: boolean;
  readonly statusCodeMatch: boolean;
  readonly bodyProportion: number;
  readonly titleMatch: boolean | undefined;
  readonly headersMatch: boolean | undefined;
  /** The response differs from the control's: status mismatch, or bodies differ in length with no shared title word. */
  readonly differs: boolean;
  /** Short reasons the response differs, for evidence. */
  readonly reasons: readonly string[];
}

function hex(bytes: Uint8Array | null | undefined): string {
  return bytes === null || bytes === undefined || bytes.length === 0 ? '' : Buffer.from(bytes).toString('hex');
}

/** Compare the probe's final response with the control's successful response. */
export function compareHttp(probe: HttpRequest, control: ControlHttp): HttpComparison {
  const probeSha = hex(probe.bodySha256);
  const identicalBody = probeSha !== '' && probeSha === hex(control.bodySha256) && (probe.statusCode ?? 0) === (control.statusCode ?? 0);
  const statusCodeMatch = (probe.statusCode ?? 0) === (control.statusCode ?? 0);
  const proportion = bodyProportion(probe.bodyLength ?? 0, control.bodyLength ?? 0);
  const titleMatch = titlesShareWord(probe.title ?? '', control.title ?? '');
  const headers = headersMatch((probe.responseHeaders ?? []).map((h) => h.name ?? ''), control.headerNames ?? []);
  const reasons: string[] = [];
  if (!statusCodeMatch) reasons.push(`status ${probe.statusCode ?? 0} vs control ${control.statusCode ?? 0}`);
  const bodyDiffers = proportion < BODY_PROPORTION_THRESHOLD;
  const titleDiffers = titleMatch === false || (titleMatch === undefined && (probe.title ?? '') !== (control.title ?? ''));
  if (bodyDiffers && titleDiffers) {
    reasons.push(
      `body ${probe.bodyLength ?? 0} vs control ${control.bodyLength ?? 0} bytes (proportion ${proportion.toFixed(2)} < ${BODY_PROPORTION_THRESHOLD})`,
      `title ${JSON.stringify(probe.title ?? '')} shares no word with control ${JSON.stringify(control.title ?? '')}`,
    );
  }
  return {
    identicalBody,
    statusCodeMatch,
    bodyProportion: proportion,
    titleMatch,
    headersMatch: headers,
    differs: !identicalBody && reasons.length > 0,
    reasons,
  };
}

/**
 * Bytes per second of a body download, from its throughput samples
 * (cumulative bytes at t_ms): bytes between the first and last sample over
 * the time between them. With fewer than two usable samples, the body
 * length over the request's duration. Undefined when neither is measurable.
 */
export function probeThroughputBps(request: HttpRequest): number | undefined {
  const samples = (request.throughput ?? [])
    .map((s) => ({ t: s.tMs ?? 0, bytes: s.bytes ?? 0 }))
    .filter((s) => Number.isFinite(s.t) && Number.isFinite(s.bytes))
    .sort((a, b) => a.t - b.t);
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first !== undefined && last !== undefined && last.t > first.t && last.bytes > first.bytes) {
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
  const duration = (request.t1Ms ?? 0) - (request.t0Ms ?? 0);
  const length = request.bodyLength ?? 0;
  if (duration > 0 && length > 0) return (length * 1000) / duration;
  return undefined;
}

/** How long the probe's body download lasted (throughput samples' span, else t1 - t0), in ms. */
export function probeDownloadMs(request: HttpRequest): number {
  const times = (request.throughput ?? []).map((s) => s.tMs ?? 0).filter((t) => Number.isFinite(t));
  if (times.length >= 2) return Math.max(...times) - Math.min(...times);
  const duration = (request.t1Ms ?? 0) - (request.t0Ms ?? 0);
  return Number.isFinite(duration) && duration > 0 ? duration : 0;
}

/** Bytes of body the probe received: the body length, or the last throughput sample when larger (a failed download). */
export function bodyBytesReceived(request: HttpRequest): number {
  const sampled = Math.max(0, ...(request.throughput ?? []).map((s) => s.bytes ?? 0));
  return Math.max(request.bodyLength ?? 0, sampled);
}
