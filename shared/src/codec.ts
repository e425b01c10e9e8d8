import { steppe } from '@steppe/proto';
import type { KeyObject } from 'node:crypto';
import { DecodeError, SignatureError, type ErrorCode } from './errors.js';
import { isFailure } from './failures.js';
import { ID_BYTES } from './ids.js';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, probeIdFromPublicKey, sha256, signBytes, verifyBytes, type SigningKeyPair } from './signing.js';
import { isVerdict } from './verdicts.js';

/** The generated wire-format namespace (steppe.v1). */
export const wire = steppe.v1;

export type Frame = steppe.v1.Frame;
export type FrameProps = steppe.v1.Frame.$Properties;
export type Measurement = steppe.v1.Measurement;
export type MeasurementProps = steppe.v1.Measurement.$Properties;
export type MeasurementBatchProps = steppe.v1.MeasurementBatch.$Properties;
export type BatchHeader = steppe.v1.BatchHeader;

/** Which message a Frame carries. */
export type FrameKind = NonNullable<steppe.v1.Frame['body']>;

/** A decoded Frame whose body is known to be set. */
export type DecodedFrame = steppe.v1.Frame & { body: FrameKind };

/** Result of decoding untrusted bytes: never throws. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

/** Version of the session protocol spoken in ProbeHello.protocol_version. */
export const PROTOCOL_VERSION = 1;

function fail<T>(code: ErrorCode, message: string, cause?: unknown): DecodeResult<T> {
  return { ok: false, error: new DecodeError(code, message, cause === undefined ? undefined : { cause }) };
}

function bytesOf(writer: { finish(): Uint8Array }): Uint8Array {
  return writer.finish();
}

/** Encode a Frame. */
export function encodeFrame(frame: FrameProps): Uint8Array {
  return bytesOf(steppe.v1.Frame.encode(frame));
}

/**
 * Decode and validate a Frame from untrusted bytes. Garbage, truncation and
 * protocol violations come back as a coded DecodeError, never as a throw.
 */
export function decodeFrame(bytes: Uint8Array): DecodeResult<DecodedFrame> {
  let frame: steppe.v1.Frame;
  try {
    frame = steppe.v1.Frame.decode(bytes);
  } catch (cause) {
    return fail('STEPPE_ERR_FRAME_DECODE', `not a valid Frame: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  const body = frame.body;
  if (body === undefined) return fail('STEPPE_ERR_FRAME_INVALID', 'frame carries no message');
  const problem = frameProblem(frame, body);
  if (problem !== undefined) return fail('STEPPE_ERR_FRAME_INVALID', `invalid ${body} frame: ${problem}`);
  return { ok: true, value: frame as DecodedFrame };
}

const MAX_SHORT_TEXT = 256;

function frameProblem(frame: steppe.v1.Frame, body: FrameKind): string | undefined {
  switch (body) {
    case 'hello': {
      const h = frame.hello;
      if (h == null) return 'missing hello';
      if ((h.protocolVersion ?? 0) < 1) return 'protocol_version must be >= 1';
      const key = h.publicKey ?? new Uint8Array();
      if (key.length !== PUBLIC_KEY_BYTES) return `public_key must be ${PUBLIC_KEY_BYTES} bytes, got ${key.length}`;
      if (h.probeId !== probeIdFromPublicKey(key)) return 'probe_id does not derive from public_key';
      if ((h.softwareVersion ?? '').length === 0 || (h.softwareVersion ?? '').length > 64) return 'software_version must be 1-64 characters';
      if ((h.capabilities ?? []).length > 32 || (h.capabilities ?? []).some((c) => c.length > 64)) return 'too many or too long capabilities';
      if ((h.enrollmentToken ?? '').length > MAX_SHORT_TEXT) return 'enrollment_token too long';
      if ((h.testListVersion ?? '').length > MAX_SHORT_TEXT) return 'test_list_version too long';
      return undefined;
    }
    case 'batch': {
      const b = frame.batch;
      if (b == null) return 'missing batch';
      if ((b.header ?? new Uint8Array()).length === 0) return 'header is empty';
      if ((b.signature ?? new Uint8Array()).length !== SIGNATURE_BYTES) return `signature must be ${SIGNATURE_BYTES} bytes`;
      if ((b.measurements ?? []).length === 0) return 'no measurements';
      return undefined;
    }
    case 'error': {
      const e = frame.error;
      if (e == null) return 'missing error';
      if ((e.code ?? '').length === 0) return 'code is empty';
      return undefined;
    }
    case 'ack':
      return frame.ack == null ? 'missing ack' : undefined;
    case 'welcome':
      return frame.welcome == null ? 'missing welcome' : undefined;
    case 'ping':
      return frame.ping == null ? 'missing ping' : undefined;
    case 'pong':
      return frame.pong == null ? 'missing pong' : undefined;
    default:
      return `unknown body ${String(body)}`;
  }
}

/** Encode a Measurement. */
export function encodeMeasurement(measurement: MeasurementProps): Uint8Array {
  return bytesOf(steppe.v1.Measurement.encode(measurement));
}

/** Decode and validate a Measurement from untrusted bytes; never throws. */
export function decodeMeasurement(bytes: Uint8Array): DecodeResult<Measurement> {
  let m: Measurement;
  try {
    m = steppe.v1.Measurement.decode(bytes);
  } catch (cause) {
    return fail('STEPPE_ERR_FRAME_DECODE', `not a valid Measurement: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
  const problem = measurementProblem(m);
  if (problem !== undefined) return fail('STEPPE_ERR_MEASUREMENT_INVALID', `invalid measurement: ${problem}`);
  return { ok: true, value: m };
}

/** Why a measurement is not acceptable, or undefined when it is. */
export function measurementProblem(m: Measurement): string | undefined {
  if (m.id.length !== ID_BYTES) return `id must be ${ID_BYTES} bytes, got ${m.id.length}`;
  if (m.probeId.length === 0) return 'probe_id is empty';
  if (m.testName.length === 0 || m.testName.length > 64) return 'test_name must be 1-64 characters';
  if (!Number.isSafeInteger(m.startTimeMs) || m.startTimeMs <= 0) return 'start_time_ms must be a positive integer';
  if (!Number.isFinite(m.runtimeMs) || m.runtimeMs < 0) return 'runtime_ms must be >= 0';
  if (m.input.length === 0 || m.input.length > 4096) return 'input must be 1-4096 characters';
  const verdict = m.analysis?.verdict ?? '';
  if (verdict !== '' && !isVerdict(verdict)) return `unknown verdict ${JSON.stringify(verdict.slice(0, 40))}`;
  const bad = failureStrings(m).find((f) => f !== '' && !isFailure(f));
  if (bad !== undefined) return `failure ${JSON.stringify(bad.slice(0, 60))} is not in the vocabulary`;
  return undefined;
}

function failureStrings(m: Measurement): string[] {
  const o = m.observations;
  const out: string[] = [m.analysis?.failure ?? ''];
  if (o == null) return out;
  for (const q of o.dnsQueries ?? []) out.push(q.failure ?? '');
  for (const t of o.tcpConnects ?? []) out.push(t.failure ?? '');
  for (const t of o.tlsHandshakes ?? []) out.push(t.failure ?? '', t.verificationError ?? '');
  for (const h of o.httpRequests ?? []) out.push(h.failure ?? '');
  return out;
}

// sealBatch and openBatch hash every measurement's bytes (kilobytes each),
// the costliest step of verifying a batch after decoding: sha256 is one-shot.
const measurementDigest = sha256;

/** What a probe needs to seal a batch. */
export interface SealBatchInput {
  readonly keys: SigningKeyPair;
  readonly probeId: string;
  readonly sequence: number;
  readonly createdMs: number;
  /** Encoded Measurement messages. */
  readonly measurements: readonly Uint8Array[];
}

/**
 * Build a signed MeasurementBatch: the header binds probe id, sequence and the
 * SHA-256 of each measurement's exact bytes; the signature covers the
 * header's exact bytes.
 */
export function sealBatch(input: SealBatchInput): MeasurementBatchProps {
  const header = bytesOf(steppe.v1.BatchHeader.encode({
    probeId: input.probeId,
    sequence: input.sequence,
    createdMs: input.createdMs,
    measurementSha256: input.measurements.map((m) => measurementDigest(m)),
  }));
  return { header, signature: signBytes(input.keys.privateKey, header), measurements: [...input.measurements] };
}

/** A batch whose signature and digests have been checked. */
export interface OpenedBatch {
  readonly header: BatchHeader;
  readonly measurements: readonly Uint8Array[];
}

/**
 * Check a batch received from `expectedProbeId` whose registered key is
 * `publicKey`: signature over the header, header's probe id, and each
 * measurement's digest. Never throws.
 */
export function openBatch(
  batch: MeasurementBatchProps,
  publicKey: KeyObject | Uint8Array,
  expectedProbeId: string,
): { ok: true; value: OpenedBatch } | { ok: false; error: SignatureError | DecodeError } {
  const headerBytes = batch.header ?? new Uint8Array();
  const signature = batch.signature ?? new Uint8Array();
  if (!verifyBytes(publicKey, headerBytes, signature)) {
    return { ok: false, error: new SignatureError('STEPPE_ERR_BAD_SIGNATURE', 'batch signature does not verify against the registered key') };
  }
  let header: BatchHeader;
  try {
    header = steppe.v1.BatchHeader.decode(headerBytes);
  } catch (cause) {
    return { ok: false, error: new DecodeError('STEPPE_ERR_FRAME_DECODE', 'signed batch header is not a valid BatchHeader', { cause }) };
  }
  if (header.probeId !== expectedProbeId) {
    return { ok: false, error: new SignatureError('STEPPE_ERR_PROBE_MISMATCH', 'batch header names another probe') };
  }
  const measurements = batch.measurements ?? [];
  const digests = header.measurementSha256;
  if (digests.length !== measurements.length) {
    return { ok: false, error: new SignatureError('STEPPE_ERR_BATCH_MISMATCH', `header lists ${digests.length} digests for ${measurements.length} measurements`) };
  }
  for (let i = 0; i < measurements.length; i += 1) {
    const expected = digests[i];
    const actual = measurementDigest(measurements[i] ?? new Uint8Array());
    if (expected === undefined || !bytesEqual(expected, actual)) {
      return { ok: false, error: new SignatureError('STEPPE_ERR_BATCH_MISMATCH', `measurement ${i} does not match its signed digest`) };
    }
  }
  return { ok: true, value: { header, measurements } };
}

/**
 * Verify one stored measurement on its own: its bytes' digest must be listed
 * in the signed batch header, and the signature must verify. This is what a
 * researcher runs on `GET /api/v1/measurements/{id}`.
 */
export function verifyMeasurementProof(
  measurement: Uint8Array,
  batchHeader: Uint8Array,
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (!verifyBytes(publicKey, batchHeader, signature)) return false;
  let header: BatchHeader;
  try {
    header = steppe.v1.BatchHeader.decode(batchHeader);
  } catch {
    return false;
  }
  if (header.probeId !== probeIdFromPublicKey(publicKey)) return false;
  const digest = sha256(measurement);
  return header.measurementSha256.some((d) => bytesEqual(d, digest));
}

/** Constant-size byte comparison helper. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
