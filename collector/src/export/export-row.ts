import { createHash } from 'node:crypto';
import { type Measurement, SteppeError, idToString, wire } from '@steppe/shared';
import type { IterateOptions, MeasurementFilter, MeasurementProof, MeasurementWithRaw, StoredMeasurement } from '../store/store.js';

/** One stored measurement as an exporter sees it: columns, exact bytes and (for Steppe's own) the probe's proof. */
export type ExportRow = MeasurementWithRaw & { readonly proof?: MeasurementProof | null };

/**
 * What exporters read: the store's streaming iterator, and optionally the
 * single lookup used to find a measurement's proof when the iterator does not
 * carry it. Every Store satisfies this; tests may pass plain arrays.
 */
export interface ExportSource {
  iterateMeasurements(filter: MeasurementFilter, options?: IterateOptions): AsyncIterable<ExportRow> | Iterable<ExportRow>;
  getMeasurement?(id: Uint8Array): Promise<Pick<StoredMeasurement, 'proof'> | undefined> | Pick<StoredMeasurement, 'proof'> | undefined;
}

/** A row whose proof is known (null for unsigned imports). */
export type ProvenRow = MeasurementWithRaw & { readonly proof: MeasurementProof | null };

interface CachedBatch {
  readonly probeId: string;
  readonly proof: MeasurementProof;
  /** Hex SHA-256 of every measurement the signed header lists. */
  readonly digests: ReadonlySet<string>;
}

/** Rows per store page during an export. */
const EXPORT_PAGE_ROWS = 1_000;

// Batches remembered when proofs are looked up: rows in start-time order
// mostly come batch by batch, so a few dozen cover the interleaving of probes.
const PROOF_CACHE_BATCHES = 64;

/**
 * Finds proofs by lookup when the store's iterator does not carry them. A
 * batch header that lists a row's exact digest is a proof for that row (the
 * probe signed it), so one lookup serves every measurement of its batch.
 */
class ProofFinder {
  readonly #source: ExportSource;
  readonly #cache: CachedBatch[] = [];

  constructor(source: ExportSource) {
    this.#source = source;
  }

  async find(row: MeasurementWithRaw): Promise<MeasurementProof | null> {
    const digest = createHash('sha256').update(row.raw).digest('hex');
    for (const batch of this.#cache) {
      if (batch.probeId === row.probeId && batch.digests.has(digest)) return batch.proof;
    }
    const proof = (await this.#source.getMeasurement?.(row.id))?.proof ?? null;
    if (proof === null) return null;
    let digests: Set<string>;
    try {
      digests = new Set(wire.BatchHeader.decode(proof.header).measurementSha256.map((d) => Buffer.from(d).toString('hex')));
    } catch {
      return proof; // an undecodable header: exported as stored, the verifier will say so
    }
    this.#cache.unshift({ probeId: row.probeId, proof, digests });
    if (this.#cache.length > PROOF_CACHE_BATCHES) this.#cache.pop();
    return proof;
  }
}

/**
 * Stream rows in ascending start time (the order of every export, so the same
 * query gives the same files), attaching each measurement's proof: from the
 * row when the store's iterator provides it, else by a lookup (one per batch).
 */
export async function* exportRows(source: ExportSource, filter: MeasurementFilter, withProofs: boolean): AsyncGenerator<ProvenRow, void, undefined> {
  const finder = new ProofFinder(source);
  // Large pages: an export reads every row anyway. The store attaches proofs
  // when it can (one lookup per batch); otherwise they are found below.
  for await (const row of source.iterateMeasurements(filter, withProofs ? { order: 'asc', pageSize: EXPORT_PAGE_ROWS, withProofs: true } : { order: 'asc', pageSize: EXPORT_PAGE_ROWS })) {
    if (!withProofs || row.source !== 'steppe') {
      yield { ...row, proof: row.proof ?? null };
    } else if (row.proof !== undefined) {
      yield row as ProvenRow;
    } else {
      yield { ...row, proof: await finder.find(row) };
    }
  }
}

/**
 * Decode a stored measurement's bytes. Exports show what was stored, so only
 * the wire decoding is applied (not today's acceptance rules); bytes that do
 * not decode mean a corrupt store, an error the export must not hide.
 */
export function decodeStored(row: MeasurementWithRaw): Measurement {
  try {
    return wire.Measurement.decode(row.raw);
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_INTERNAL', `stored measurement ${idToString(row.id)} does not decode: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}
