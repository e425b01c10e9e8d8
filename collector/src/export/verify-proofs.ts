import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';
import { type BatchHeader, PUBLIC_KEY_BYTES, measurementToJson, probeIdFromPublicKey, verifyBytes, wire } from '@steppe/shared';
import { batchIdOf } from './steppe-jsonl.js';
import { openMaybeGzip } from './maybe-gzip.js';

/** A line whose measurement did not verify. */
export interface ProofFailure {
  readonly line: number;
  readonly id: string;
  readonly reason: string;
}

/** Result of checking every measurement of a JSON Lines export. */
export interface ProofVerification {
  readonly lines: number;
  /** Lines whose proof verified and whose fields match the signed bytes. */
  readonly verified: number;
  /** Imports (no probe signature): fields checked against their bytes only. */
  readonly unsigned: number;
  readonly failures: readonly ProofFailure[];
  /** Failures beyond those listed. */
  readonly moreFailures: number;
}

// Fields the collector adds or derives (docs/data-format.md): not covered by
// the probe's signature. Every other field of measurementToJson() must equal
// what the signed bytes decode to.
const COLLECTOR_FIELDS: ReadonlySet<string> = new Set(['probe_asn', 'probe_cc', 'probe_network_name', 'verdict', 'anomaly', 'confirmed', 'failure']);

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

function checkLine(text: string, batches: Map<string, BatchCheck>): { id: string; signed: boolean; reason?: string } {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { id: '', signed: false, reason: 'not valid JSON' };
  }
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
    return { id, signed, reason: 'the measurement bytes do not decode' };
  }
  if (expected['id'] !== id) return { id, signed, reason: `the bytes are measurement ${String(expected['id'])}, not ${id}` };
  if (signed && proof !== null && proof !== undefined) {
    const ref = typeof proof['batch_id'] === 'string' ? proof['batch_id'] : batchIdOf(bytesOf(proof['signature']) ?? new Uint8Array());
    if (expected['probe_id'] !== batches.get(ref)?.probeId) return { id, signed, reason: 'the measurement names another probe than the one that signed its batch' };
  }
  for (const [key, value] of Object.entries(expected)) {
    if (COLLECTOR_FIELDS.has(key)) continue;
    if (JSON.stringify(json[key]) !== JSON.stringify(value)) return { id, signed, reason: `field "${key}" differs from the ${signed ? 'signed ' : ''}bytes` };
  }
  return { id, signed };
}

/**
 * Check every measurement of a Steppe JSON Lines export (plain or gzip):
 * its proof (the bytes' SHA-256 is listed in a batch header the probe
 * signed, as `verifyMeasurementProof` checks; in a compact export a batch's
 * header is given once, on its first line), the measurement's probe id
 * against the batch's, and every signed field of the line against what the
 * bytes decode to, so neither the bytes nor the JSON can be altered
 * unnoticed. Streams the file; lists at most `maxListed` failures.
 */
export async function verifyJsonlProofs(path: string, options: { readonly maxListed?: number } = {}): Promise<ProofVerification> {
  const maxListed = options.maxListed ?? 20;
  const lines = createInterface({ input: await openMaybeGzip(path), crlfDelay: Infinity });
  let count = 0;
  let verified = 0;
  let unsigned = 0;
  let more = 0;
  const failures: ProofFailure[] = [];
  const batches = new Map<string, BatchCheck>();
  for await (const text of lines) {
    count += 1;
    if (text.trim().length === 0) continue;
    const result = checkLine(text, batches);
    if (result.reason !== undefined) {
      if (failures.length < maxListed) failures.push({ line: count, id: result.id, reason: result.reason });
      else more += 1;
    } else if (result.signed) {
      verified += 1;
    } else {
      unsigned += 1;
    }
  }
  return { lines: count, verified, unsigned, failures, moreFailures: more };
}

