import type { Measurement } from '@steppe/shared';
import type { ImportedMeasurement, IncomingBatch, MeasurementRecord, ProbeNetwork } from './store.js';

/**
 * The messages between the SQLite store and its writer (a worker thread,
 * docs/design/dd-004-storage.md). What a commit needs is reduced, on the
 * caller's thread, to plain values and one byte buffer:
 *
 * - the columns of each measurement (`MeasurementFacts`), not the decoded
 *   protobuf object — structured cloning drops the prototype that holds
 *   protobufjs's field defaults, and would copy the observations for nothing;
 * - every byte field (ids, signed bytes, headers, signatures) copied once into
 *   one buffer that is *transferred*, not cloned: a Uint8Array that views a
 *   larger buffer (a whole WebSocket frame, Buffer's 8 KiB pool) would
 *   otherwise be cloned with all of that buffer.
 *
 * The writer answers with indexes (which measurements were duplicates), so
 * the caller hands back its own id objects as before.
 */

/** Bumped whenever a message shape changes: the writer refuses a caller of another version (a stale build). */
export const WRITER_PROTOCOL = 2;

/** [offset, length] of a byte field in a job's buffer. */
export type Span = readonly [number, number];

/** The columns a store derives from a measurement (its observations stay in the bytes). */
export type MeasurementFacts = Pick<MeasurementRecord, 'startMs' | 'domain' | 'input' | 'categoryCode' | 'testName' | 'testVersion'
  | 'verdict' | 'blockingType' | 'anomaly' | 'confirmed' | 'failure' | 'fingerprintId'>;

const HOST = /^[a-z0-9._:[\]-]{1,253}$/;

/**
 * The domain column of a measurement: its own field, else the input URL's
 * host; '' when neither is a plausible host name. It keys rollups and
 * filters, so a probe cannot fill them with arbitrary text (the signed bytes
 * keep whatever it sent).
 */
function domainOf(m: Measurement): string {
  const own = m.domain.toLowerCase();
  if (HOST.test(own)) return own;
  try {
    const host = new URL(m.input).hostname.toLowerCase();
    return HOST.test(host) ? host : '';
  } catch {
    return '';
  }
}

/** The stored columns of a decoded measurement. */
export function measurementFacts(m: Measurement): MeasurementFacts {
  const a = m.analysis;
  const failure = a?.failure ?? '';
  return {
    startMs: Number(m.startTimeMs),
    domain: domainOf(m),
    input: m.input,
    categoryCode: m.categoryCode,
    testName: m.testName,
    testVersion: m.testVersion,
    verdict: a?.verdict ?? '',
    blockingType: a?.blockingType ?? '',
    anomaly: a?.anomaly ?? false,
    confirmed: a?.confirmed ?? false,
    failure: failure === '' ? null : failure,
    fingerprintId: a?.fingerprintId ? a.fingerprintId : null,
  };
}

/** One batch, packed: its measurements are `count` consecutive entries of the job's columns. */
export interface PackedBatch {
  readonly probeId: string;
  readonly sequence: number;
  readonly receivedMs: number;
  readonly network: ProbeNetwork;
  readonly header: Span;
  readonly signature: Span;
  readonly count: number;
}

/** Text columns of a measurement, in this order, in `MeasurementColumns.text`. */
const TEXT_FIELDS = ['domain', 'input', 'categoryCode', 'testName', 'testVersion', 'verdict', 'blockingType', 'failure', 'fingerprintId'] as const;
const FLAG_ANOMALY = 1;
const FLAG_CONFIRMED = 2;

/**
 * The measurements of a job column by column. Structured cloning writes
 * every property name of every object it copies, so a job of 10,000
 * measurements as objects cost ~7 µs each to send and as much to receive
 * (bench/ingest/RESULTS.md); as a few flat arrays it is a fraction of that,
 * and the writer's heap holds a handful of arrays instead of 30,000 objects.
 */
export interface MeasurementColumns {
  /** Per measurement: id offset, id length, raw offset, raw length in the job's bytes. */
  readonly spans: Float64Array;
  readonly startMs: Float64Array;
  /** FLAG_ANOMALY | FLAG_CONFIRMED. */
  readonly flags: Uint8Array;
  /** TEXT_FIELDS.length entries per measurement (failure and fingerprintId may be null). */
  readonly text: (string | null)[];
}

/** commitBatches' job: batches, their measurements' columns, and the buffer the spans point into. */
export interface BatchJob {
  readonly bytes: Uint8Array;
  readonly batches: readonly PackedBatch[];
  readonly measurements: MeasurementColumns;
}

/** The i-th measurement of a job: its id and bytes (views of the job's buffer) and columns. */
export function measurementAt(job: BatchJob, i: number): { readonly id: Uint8Array; readonly raw: Uint8Array; readonly facts: MeasurementFacts } {
  const c = job.measurements;
  const s = i * 4;
  const t = i * TEXT_FIELDS.length;
  const text = (k: number): string => c.text[t + k] ?? '';
  const flags = c.flags[i] ?? 0;
  return {
    id: job.bytes.subarray(c.spans[s] ?? 0, (c.spans[s] ?? 0) + (c.spans[s + 1] ?? 0)),
    raw: job.bytes.subarray(c.spans[s + 2] ?? 0, (c.spans[s + 2] ?? 0) + (c.spans[s + 3] ?? 0)),
    facts: {
      startMs: c.startMs[i] ?? 0,
      domain: text(0),
      input: text(1),
      categoryCode: text(2),
      testName: text(3),
      testVersion: text(4),
      verdict: text(5),
      blockingType: text(6),
      failure: c.text[t + 7] ?? null,
      fingerprintId: c.text[t + 8] ?? null,
      anomaly: (flags & FLAG_ANOMALY) !== 0,
      confirmed: (flags & FLAG_CONFIRMED) !== 0,
    },
  };
}

/** One imported measurement, packed: the byte fields as spans, the rest as given. */
export interface PackedImport extends Pick<ImportedMeasurement, 'source' | 'pseudoProbeId' | 'reportId' | 'receivedMs' | 'network' | 'ooni'> {
  readonly id: Span;
  readonly raw: Span;
  /** The source's original record (compressed by the writer), or null. */
  readonly original: Span | null;
  readonly facts: MeasurementFacts;
}

/** importMeasurements' job. */
export interface ImportJob {
  readonly bytes: Uint8Array;
  readonly items: readonly PackedImport[];
}

/** Per batch of a BatchJob: indexes of the measurements that were already stored. */
export type BatchOutcome = readonly number[];

/** Free buffers kept for reuse. */
const MAX_FREE_BUFFERS = 2;
/** Buffers are allocated in whole MiB, so one serves groups of similar size. */
const BUFFER_STEP = 2 ** 20;

/**
 * The buffers jobs are packed into, reused: the writer hands each back with
 * its answer. Fresh memory costs a page fault per 4 KiB page on first touch
 * — on the benchmark VM ~20 ns per byte, 30 times the copy itself, which made
 * packing a 45 MB group cost a second (bench/ingest/RESULTS.md) — while a
 * buffer already touched is copied into at memory speed. At most
 * MAX_FREE_BUFFERS are kept (one job commits while the next is packed).
 */
export class JobBuffers {
  #free: ArrayBuffer[] = [];

  /** A view of `size` bytes over a free buffer large enough, or a new one. */
  take(size: number): Uint8Array {
    let best = -1;
    this.#free.forEach((b, i) => {
      if (b.byteLength >= size && (best === -1 || b.byteLength < (this.#free[best]?.byteLength ?? Infinity))) best = i;
    });
    const buffer = best === -1 ? new ArrayBuffer(Math.max(BUFFER_STEP, Math.ceil(size / BUFFER_STEP) * BUFFER_STEP)) : this.#free.splice(best, 1)[0];
    return new Uint8Array(buffer ?? new ArrayBuffer(size), 0, size);
  }

  /** A buffer the writer is done with. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0) return; // detached: it went elsewhere
    this.#free.push(buffer);
    if (this.#free.length > MAX_FREE_BUFFERS) {
      this.#free.sort((a, b) => b.byteLength - a.byteLength);
      this.#free.length = MAX_FREE_BUFFERS;
    }
  }
}

/** Copies byte fields into one buffer of a size known in advance. */
class BytePacker {
  readonly bytes: Uint8Array;
  #at = 0;

  constructor(total: number, buffers: JobBuffers | undefined) {
    this.bytes = buffers === undefined ? new Uint8Array(total) : buffers.take(total);
  }

  add(data: Uint8Array): Span {
    const span: Span = [this.#at, data.byteLength];
    this.bytes.set(data, this.#at);
    this.#at += data.byteLength;
    return span;
  }
}

/** A plain copy of a network (the caller's object may carry more). */
function plainNetwork(n: ProbeNetwork): ProbeNetwork {
  return { asn: n.asn, cc: n.cc, networkName: n.networkName };
}

/** Pack batches for the writer; `bytes.buffer` is the one buffer to transfer (taken from `buffers` when given). */
export function packBatches(batches: readonly IncomingBatch[], buffers?: JobBuffers): BatchJob {
  let total = 0;
  for (const b of batches) {
    total += b.header.byteLength + b.signature.byteLength;
    for (const m of b.measurements) total += m.id.byteLength + m.raw.byteLength;
  }
  const packer = new BytePacker(total, buffers);
  const n = batches.reduce((sum, b) => sum + b.measurements.length, 0);
  const columns: MeasurementColumns = { spans: new Float64Array(n * 4), startMs: new Float64Array(n), flags: new Uint8Array(n), text: new Array<string | null>(n * TEXT_FIELDS.length) };
  let i = 0;
  const packed = batches.map((b): PackedBatch => {
    const header = packer.add(b.header);
    const signature = packer.add(b.signature);
    for (const m of b.measurements) {
      const id = packer.add(m.id);
      const raw = packer.add(m.raw);
      columns.spans.set([id[0], id[1], raw[0], raw[1]], i * 4);
      const f = measurementFacts(m.decoded);
      columns.startMs[i] = f.startMs;
      columns.flags[i] = (f.anomaly ? FLAG_ANOMALY : 0) | (f.confirmed ? FLAG_CONFIRMED : 0);
      TEXT_FIELDS.forEach((field, k) => {
        columns.text[i * TEXT_FIELDS.length + k] = f[field];
      });
      i += 1;
    }
    return { probeId: b.probeId, sequence: b.sequence, receivedMs: b.receivedMs, network: plainNetwork(b.network), header, signature, count: b.measurements.length };
  });
  return { bytes: packer.bytes, batches: packed, measurements: columns };
}

/** Pack imported measurements for the writer. */
export function packImports(items: readonly ImportedMeasurement[], buffers?: JobBuffers): ImportJob {
  let total = 0;
  for (const i of items) total += i.id.byteLength + i.raw.byteLength + (i.original?.byteLength ?? 0);
  const packer = new BytePacker(total, buffers);
  const packed = items.map((i): PackedImport => ({
    id: packer.add(i.id),
    raw: packer.add(i.raw),
    original: i.original === undefined ? null : packer.add(i.original),
    facts: measurementFacts(i.decoded),
    source: i.source,
    pseudoProbeId: i.pseudoProbeId,
    reportId: i.reportId,
    receivedMs: i.receivedMs,
    network: plainNetwork(i.network),
    ooni: { blocking: i.ooni.blocking, accessible: i.ooni.accessible },
  }));
  return { bytes: packer.bytes, items: packed };
}

/** The bytes of a span (a view: no copy). */
export function spanOf(bytes: Uint8Array, span: Span): Uint8Array {
  return bytes.subarray(span[0], span[0] + span[1]);
}

/** A standalone copy of small bytes (a key, an analysis) safe to clone to another thread. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
