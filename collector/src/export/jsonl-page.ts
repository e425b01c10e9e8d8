import type { MeasurementProof, MeasurementSource } from '../store/store.js';
import { ByteWriter } from './byte-writer.js';
import type { ProvenRow } from './export-row.js';
import { SteppeLineWriter } from './steppe-line-writer.js';
import { type ProofMode, ProofWriter, batchIdOf } from './steppe-jsonl.js';

/**
 * A page of JSON Lines work handed to a worker thread (jsonl-pool.ts), in
 * columns that cross the thread boundary cheaply: the rows' exact bytes in
 * one transferable buffer, numbers in one Float64Array, strings interned in a
 * per-page table, and per batch only what its lines use. Which lines carry
 * their batch's header is decided by the main thread, which sees the rows
 * in export order.
 */
export interface JsonlPage {
  /** Every row's bytes, concatenated. */
  readonly raw: Uint8Array;
  /** End offset of each row's bytes in `raw`. */
  readonly ends: Int32Array;
  /** The 16-byte ids, concatenated (for error messages). */
  readonly ids: Uint8Array;
  /** NUMBERS per row: see the N_ constants. */
  readonly numbers: Float64Array;
  /** STRINGS per row, indexes into `strings` (-1: null). */
  readonly text: Int32Array;
  readonly strings: readonly string[];
  /** Sequence number of each batch of the page. */
  readonly sequences: Float64Array;
  /**
   * Per batch, the signature (or only its first 16 bytes, all a batch id
   * needs), header and public key (empty unless a line carries them),
   * concatenated; `batchEnds` holds the three end offsets of each batch.
   */
  readonly batchBytes: Uint8Array;
  readonly batchEnds: Int32Array;
  /** Each row's `collector_proof` JSON text (ExportSealer), null when the export is not sealed. */
  readonly collectorProofs: readonly (string | null)[];
}

const NUMBERS = 6;
const N_ASN = 0;
const N_START = 1;
const N_RECEIVED = 2;
const N_FLAGS = 3;
const N_BATCH = 4;
const N_OONI_ACCESSIBLE = 5;

const F_ANOMALY = 1;
const F_CONFIRMED = 2;
const F_WITH_HEADER = 4;
const F_OONI = 8;

const STRINGS = 10;
const S_PROBE = 0;
const S_CC = 1;
const S_NETWORK = 2;
const S_VERDICT = 3;
const S_BLOCKING = 4;
const S_FAILURE = 5;
const S_FINGERPRINT = 6;
const S_SOURCE = 7;
const S_REPORT = 8;
const S_OONI_BLOCKING = 9;

const ID_BYTES = 16;

interface BatchSlot {
  readonly proof: MeasurementProof;
  withHeader: boolean;
}

/** Builds pages on the main thread, in export order. */
export class PageBuilder {
  readonly #proofs: ProofWriter;
  readonly #batchIds = new WeakMap<MeasurementProof, string>();
  #raws: Uint8Array[] = [];
  #ids: Uint8Array[] = [];
  #numbers: number[] = [];
  #text: number[] = [];
  #strings: string[] = [];
  #stringIndex = new Map<string, number>();
  #batches: BatchSlot[] = [];
  #batchIndex = new Map<MeasurementProof, number>();
  #collectorProofs: (string | null)[] = [];
  bytes = 0;

  constructor(mode: ProofMode) {
    this.#proofs = new ProofWriter(mode);
  }

  get rows(): number {
    return this.#raws.length;
  }

  #string(value: string | null): number {
    if (value === null) return -1;
    let i = this.#stringIndex.get(value);
    if (i === undefined) {
      i = this.#strings.length;
      this.#strings.push(value);
      this.#stringIndex.set(value, i);
    }
    return i;
  }

  add(row: ProvenRow, collectorProof?: string): void {
    this.#collectorProofs.push(collectorProof ?? null);
    let batch = -1;
    let flags = (row.anomaly ? F_ANOMALY : 0) | (row.confirmed ? F_CONFIRMED : 0) | (row.ooni === null ? 0 : F_OONI);
    const p = row.proof;
    if (p !== null) {
      let batchId = this.#batchIds.get(p);
      if (batchId === undefined) {
        batchId = batchIdOf(p.signature);
        this.#batchIds.set(p, batchId);
      }
      batch = this.#batchIndex.get(p) ?? -1;
      if (batch < 0) {
        batch = this.#batches.length;
        this.#batches.push({ proof: p, withHeader: false });
        this.#batchIndex.set(p, batch);
      }
      if (this.#proofs.claimHeader(batchId)) {
        flags |= F_WITH_HEADER;
        const slot = this.#batches[batch];
        if (slot !== undefined) slot.withHeader = true;
      }
    }
    this.#raws.push(row.raw);
    this.#ids.push(row.id);
    this.bytes += row.raw.length;
    const accessible = row.ooni?.accessible;
    this.#numbers.push(row.asn, row.startMs, row.receivedMs, flags, batch, accessible === true ? 1 : accessible === false ? 0 : -1);
    this.#text.push(
      this.#string(row.probeId),
      this.#string(row.cc),
      this.#string(row.networkName),
      this.#string(row.verdict),
      this.#string(row.blockingType),
      this.#string(row.failure),
      this.#string(row.fingerprintId),
      this.#string(row.source),
      this.#string(row.reportId),
      this.#string(row.ooni?.blocking ?? null),
    );
  }

  /** The page so far (its `raw` buffer is meant to be transferred), and a fresh one. */
  take(): JsonlPage {
    const raw = new Uint8Array(this.bytes);
    const ends = new Int32Array(this.#raws.length);
    const ids = new Uint8Array(this.#raws.length * ID_BYTES);
    let at = 0;
    this.#raws.forEach((r, i) => {
      raw.set(r, at);
      at += r.length;
      ends[i] = at;
      const id = this.#ids[i];
      if (id !== undefined && id.length === ID_BYTES) ids.set(id, i * ID_BYTES);
    });
    const parts: Uint8Array[] = [];
    for (const { proof, withHeader } of this.#batches) {
      parts.push(withHeader ? proof.signature : proof.signature.subarray(0, 16));
      if (withHeader) parts.push(proof.header, proof.publicKey);
      else parts.push(new Uint8Array(0), new Uint8Array(0));
    }
    const batchEnds = new Int32Array(parts.length);
    let size = 0;
    parts.forEach((part, i) => {
      size += part.length;
      batchEnds[i] = size;
    });
    const batchBytes = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      batchBytes.set(part, offset);
      offset += part.length;
    }
    const page: JsonlPage = {
      raw,
      ends,
      ids,
      numbers: Float64Array.from(this.#numbers),
      text: Int32Array.from(this.#text),
      strings: this.#strings,
      sequences: Float64Array.from(this.#batches, (b) => b.proof.sequence),
      batchBytes,
      batchEnds,
      collectorProofs: this.#collectorProofs,
    };
    this.#collectorProofs = [];
    this.#raws = [];
    this.#ids = [];
    this.#numbers = [];
    this.#text = [];
    this.#strings = [];
    this.#stringIndex = new Map();
    this.#batches = [];
    this.#batchIndex = new Map();
    this.bytes = 0;
    return page;
  }
}

/** A ProofWriter that follows decisions made elsewhere (the main thread's, per line). */
class DecidedProofs extends ProofWriter {
  next = false;

  override claimHeader(): boolean {
    return this.next;
  }
}

/** Writes the lines of pages (in a worker thread): the bytes the main thread's SteppeLineWriter would write. */
export class PageWriter {
  readonly #proofs: DecidedProofs;
  readonly #writer: SteppeLineWriter;

  constructor() {
    this.#proofs = new DecidedProofs('compact');
    this.#writer = new SteppeLineWriter(this.#proofs);
  }

  /** The page's lines. Throws as exportLines does on bytes that do not decode. */
  write(page: JsonlPage): Buffer {
    const out = new ByteWriter(Math.max(64 * 1024, page.raw.length * 4));
    const proofs: MeasurementProof[] = [];
    const bytes = page.batchBytes;
    const ends = page.batchEnds;
    for (let b = 0; b < page.sequences.length; b += 1) {
      const from = b === 0 ? 0 : (ends[3 * b - 1] ?? 0);
      const sig = ends[3 * b] ?? from;
      const header = ends[3 * b + 1] ?? sig;
      const key = ends[3 * b + 2] ?? header;
      proofs.push({ signature: bytes.subarray(from, sig), header: bytes.subarray(sig, header), publicKey: bytes.subarray(header, key), sequence: page.sequences[b] ?? 0 });
    }
    const s = page.strings;
    const text = page.text;
    const n = page.numbers;
    const str = (row: number, column: number): string | null => {
      const i = text[row * STRINGS + column] ?? -1;
      return i < 0 ? null : (s[i] ?? null);
    };
    let start = 0;
    for (let i = 0; i < page.ends.length; i += 1) {
      const end = page.ends[i] ?? start;
      const flags = n[i * NUMBERS + N_FLAGS] ?? 0;
      const batch = n[i * NUMBERS + N_BATCH] ?? -1;
      const accessible = n[i * NUMBERS + N_OONI_ACCESSIBLE] ?? -1;
      this.#proofs.next = (flags & F_WITH_HEADER) !== 0;
      // Columns a line does not use (they are in the measurement's bytes) are not shipped.
      const row: ProvenRow = {
        id: page.ids.subarray(i * ID_BYTES, (i + 1) * ID_BYTES),
        startMs: n[i * NUMBERS + N_START] ?? 0,
        receivedMs: n[i * NUMBERS + N_RECEIVED] ?? 0,
        probeId: str(i, S_PROBE) ?? '',
        asn: n[i * NUMBERS + N_ASN] ?? 0,
        cc: str(i, S_CC) ?? '',
        networkName: str(i, S_NETWORK) ?? '',
        domain: '',
        input: '',
        categoryCode: '',
        testName: '',
        testVersion: '',
        verdict: str(i, S_VERDICT) ?? '',
        blockingType: str(i, S_BLOCKING) ?? '',
        anomaly: (flags & F_ANOMALY) !== 0,
        confirmed: (flags & F_CONFIRMED) !== 0,
        failure: str(i, S_FAILURE),
        fingerprintId: str(i, S_FINGERPRINT),
        source: (str(i, S_SOURCE) ?? 'steppe') as MeasurementSource,
        reportId: str(i, S_REPORT),
        ooni: (flags & F_OONI) === 0 ? null : { blocking: str(i, S_OONI_BLOCKING), accessible: accessible < 0 ? null : accessible === 1 },
        raw: page.raw.subarray(start, end),
        proof: batch >= 0 ? (proofs[batch] ?? null) : null,
      };
      this.#writer.write(out, row, page.collectorProofs[i] ?? undefined);
      start = end;
    }
    return out.take();
  }
}
