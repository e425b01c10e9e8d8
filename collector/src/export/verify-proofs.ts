import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { type BatchHeader, PUBLIC_KEY_BYTES, measurementToJson, probeIdFromPublicKey, verifyBytes, wire } from '@steppe/shared';
import { COLLECTOR_COLUMN_KEYS } from './collector-record.js';
import { batchIdOf } from './steppe-jsonl.js';
import { openMaybeGzip } from './maybe-gzip.js';
import { type ExpectedSeal, SealChecker, type SealSummary } from './verify-seals.js';

/** A line (or lines `line`..`lastLine`) that did not verify. */
export interface ProofFailure {
  readonly line: number;
  readonly lastLine?: number;
  readonly id: string;
  readonly reason: string;
}

/** Result of checking every measurement of a JSON Lines export. */
export interface ProofVerification {
  readonly lines: number;
  /** Measurement lines (not blank). */
  readonly measurements: number;
  /** Lines whose probe proof verified and whose fields match the signed bytes. */
  readonly verified: number;
  /** Imports (no probe signature): fields checked against their bytes only. */
  readonly unsigned: number;
  /** What the collector's seals proved (collector fields, order, completeness). */
  readonly seals: SealSummary;
  readonly failures: readonly ProofFailure[];
  /** Failures beyond those listed. */
  readonly moreFailures: number;
}

/** Options of verifyJsonlProofs. */
export interface JsonlVerifyOptions {
  /** Failures listed at most (default 20); the rest are counted. */
  readonly maxListed?: number;
  /** The collector's public key obtained independently. */
  readonly publicKey?: Uint8Array;
  /** The file is an extract: do not require the whole export. */
  readonly partial?: boolean;
  /** What a snapshot's manifest says the seal is. */
  readonly expected?: ExpectedSeal;
}

// Fields the collector adds or derives (docs/data-format.md): covered by the
// collector's seal, not by the probe's signature. Every other field of
// measurementToJson() must equal what the signed bytes decode to.
const COLLECTOR_FIELDS: ReadonlySet<string> = new Set(COLLECTOR_COLUMN_KEYS);
/** Fields that carry proofs (or the schema version) and are themselves covered by nothing. */
export const CARRIER_FIELDS: readonly string[] = ['schema_version', 'proof', 'raw', 'collector_proof'];
const CARRIERS: ReadonlySet<string> = new Set(CARRIER_FIELDS);
/** The fields of a line the probe's signature covers: measurementToJson's, but the collector's. */
export const PROBE_FIELD_KEYS: readonly string[] = Object.keys(measurementToJson(wire.Measurement.create({ id: new Uint8Array(16) }))).filter((k) => !COLLECTOR_FIELDS.has(k));

function bytesOf(value: unknown): Uint8Array | undefined {
  return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : undefined;
}

/** A batch whose header was given in the file, checked once. */
interface BatchCheck {
  readonly header: string;
  /** Why the batch does not verify ('' when it does). */
  readonly problem: string;
  readonly probeId: string;
  /** Hex SHA-256 of every measurement the header lists. */
  readonly digests: ReadonlySet<string>;
}

/**
 * Check a batch as `verifyMeasurementProof` does (the signature over the
 * header's bytes, the header's probe id derived from the key), once per
 * batch, keeping the digests it lists for the lines that follow.
 */
function checkBatch(header: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): BatchCheck {
  const key = Buffer.from(header).toString('base64');
  const fail = (problem: string): BatchCheck => ({ header: key, problem, probeId: '', digests: new Set() });
  if (publicKey.length !== PUBLIC_KEY_BYTES) return fail('the public key is not 32 bytes');
  if (!verifyBytes(publicKey, header, signature)) return fail('the probe signature does not verify over the batch header');
  let decoded: BatchHeader;
  try {
    decoded = wire.BatchHeader.decode(header);
  } catch {
    return fail('the batch header does not decode');
  }
  if (decoded.probeId !== probeIdFromPublicKey(publicKey)) return fail('the batch header names another probe than the key');
  return { header: key, problem: '', probeId: decoded.probeId, digests: new Set(decoded.measurementSha256.map((d) => Buffer.from(d).toString('hex'))) };
}

/** The probe side of a line: its proof, and every field the probe signed. */
interface LineCheck {
  readonly id: string;
  readonly signed: boolean;
  readonly reason?: string;
  /** The measurement's bytes as the line gives them. */
  readonly raw?: Uint8Array;
}

function checkLine(json: Record<string, unknown>, batches: Map<string, BatchCheck>): LineCheck {
  const id = typeof json['id'] === 'string' ? json['id'] : '';
  const proof = json['proof'] as Record<string, unknown> | null | undefined;
  let raw: Uint8Array | undefined;
  let signed = false;
  if (proof !== null && proof !== undefined && typeof proof === 'object') {
    raw = bytesOf(proof['measurement']);
    const batchId = typeof proof['batch_id'] === 'string' ? proof['batch_id'] : undefined;
    const header = bytesOf(proof['batch_header']);
    const signature = bytesOf(proof['signature']);
    const publicKey = bytesOf(proof['public_key']);
    if (raw === undefined) return { id, signed: true, reason: 'proof.measurement is missing' };
    let batch: BatchCheck | undefined;
    if (header !== undefined && signature !== undefined && publicKey !== undefined) {
      const ref = batchId ?? batchIdOf(signature);
      if (ref !== batchIdOf(signature)) return { id, signed: true, reason: 'proof.batch_id does not match the signature' };
      const known = batches.get(ref);
      if (known !== undefined && known.header !== Buffer.from(header).toString('base64')) {
        return { id, signed: true, reason: `batch ${ref} is given twice with different headers` };
      }
      batch = known ?? checkBatch(header, signature, publicKey);
      batches.set(ref, batch);
    } else if (batchId !== undefined) {
      batch = batches.get(batchId);
      if (batch === undefined) return { id, signed: true, reason: `batch ${batchId} is not given on an earlier line of this file` };
    } else {
      return { id, signed: true, reason: 'proof is incomplete (batch_header, signature, public_key, or a batch_id given earlier)' };
    }
    if (batch.problem !== '') return { id, signed: true, reason: batch.problem };
    if (!batch.digests.has(createHash('sha256').update(raw).digest('hex'))) {
      return { id, signed: true, reason: 'the probe signature does not cover these measurement bytes' };
    }
    signed = true;
  } else {
    raw = bytesOf(json['raw']);
    if (raw === undefined) return { id, signed: false, reason: 'neither a proof nor raw bytes' };
  }
  let expected: Record<string, unknown>;
  try {
    expected = measurementToJson(wire.Measurement.decode(raw));
  } catch {
    return { id, signed, raw, reason: 'the measurement bytes do not decode' };
  }
  if (expected['id'] !== id) return { id, signed, raw, reason: `the bytes are measurement ${String(expected['id'])}, not ${id}` };
  if (signed && proof !== null && proof !== undefined) {
    const ref = typeof proof['batch_id'] === 'string' ? proof['batch_id'] : batchIdOf(bytesOf(proof['signature']) ?? new Uint8Array());
    if (expected['probe_id'] !== batches.get(ref)?.probeId) return { id, signed, raw, reason: 'the measurement names another probe than the one that signed its batch' };
  }
  for (const [key, value] of Object.entries(expected)) {
    if (COLLECTOR_FIELDS.has(key)) continue;
    if (JSON.stringify(json[key]) !== JSON.stringify(value)) return { id, signed, raw, reason: `field "${key}" differs from the ${signed ? 'signed ' : ''}bytes` };
  }
  for (const key of Object.keys(json)) {
    if (!Object.hasOwn(expected, key) && !COLLECTOR_FIELDS.has(key) && !CARRIERS.has(key)) return { id, signed, raw, reason: `field "${key}" is covered by no signature` };
  }
  return { id, signed, raw };
}

/**
 * Check every measurement of a Steppe JSON Lines export (plain or gzip).
 * The probe's side: its proof (the bytes' SHA-256 is listed in a batch
 * header the probe signed, as `verifyMeasurementProof` checks; in a compact
 * export a batch's header is given once, on its first line), the
 * measurement's probe id against the batch's, and every field the probe
 * signed against what the bytes decode to. The collector's side
 * (SealChecker): the fields it derived against its sealed records, and the
 * lines' order and number against its seals. Streams the file; lists at
 * most `maxListed` failures.
 */
export async function verifyJsonlProofs(path: string, options: JsonlVerifyOptions = {}): Promise<ProofVerification> {
  const maxListed = options.maxListed ?? 20;
  const lines = createInterface({ input: await openMaybeGzip(path), crlfDelay: Infinity });
  let count = 0;
  let measurements = 0;
  let verified = 0;
  let unsigned = 0;
  let more = 0;
  const failures: ProofFailure[] = [];
  // The line being checked: the seal checker reports its position there, pages over several lines.
  let current = { line: 0, id: '' };
  const fail = (line: number, id: string, reason: string, lastLine?: number): void => {
    if (failures.length < maxListed) failures.push({ line, ...(lastLine === undefined || lastLine === line ? {} : { lastLine }), id, reason });
    else more += 1;
  };
  const seals = new SealChecker(
    { ...(options.publicKey === undefined ? {} : { publicKey: options.publicKey }), ...(options.partial === undefined ? {} : { partial: options.partial }), ...(options.expected === undefined ? {} : { expected: options.expected }) },
    (line, reason, lastLine) => fail(line, lastLine === undefined && line === current.line ? current.id : '', reason, lastLine),
  );
  const batches = new Map<string, BatchCheck>();
  for await (const text of lines) {
    count += 1;
    if (text.trim().length === 0) continue;
    measurements += 1;
    let json: Record<string, unknown>;
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('not an object');
      json = parsed as Record<string, unknown>;
    } catch {
      fail(count, '', 'not a JSON object');
      seals.line(count, {}, '', undefined);
      continue;
    }
    const result = checkLine(json, batches);
    current = { line: count, id: result.id };
    const reasons = [...(result.reason === undefined ? [] : [result.reason]), ...seals.line(count, json, result.id, result.raw)];
    if (reasons.length > 0) fail(count, result.id, reasons.join('; '));
    if (result.reason === undefined) {
      if (result.signed) verified += 1;
      else unsigned += 1;
    }
  }
  const summary = seals.finish();
  return { lines: count, measurements, verified, unsigned, seals: summary, failures, moreFailures: more };
}
