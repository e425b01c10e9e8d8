import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ENGINE_VERSION, type Clock, SteppeError, type SigningKeyPair } from '@steppe/shared';
import { OONI_DATA_FORMAT_VERSION } from '../ooni/to-ooni.js';
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../version.js';
import { CSV_COLUMNS_VERSION, csvHeader, csvRow } from './csv.js';
import { decodeStored, exportRows } from './export-row.js';
import { ExportSealer } from './export-sealer.js';
import { FileSink } from './file-sink.js';
import { ByteWriter } from './byte-writer.js';
import { EXPORT_CHUNK_BYTES, EXPORT_FORMATS, type ExportFormatName, type RecordSource } from './formats.js';
import {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestFile,
  SIGNATURE_FILE,
  type SnapshotManifest,
  collectorBlock,
  serializeManifest,
  signManifest,
} from './manifest.js';
import { ooniJsonLine } from './ooni-jsonl.js';
import { type ExportQuery, orderedQuery } from './query.js';
import { SteppeLineWriter } from './steppe-line-writer.js';
import { ProofWriter, STEPPE_JSONL_SCHEMA_VERSION } from './steppe-jsonl.js';

/** Options of `writeSnapshot`. */
export interface SnapshotOptions {
  readonly source: RecordSource;
  readonly query: ExportQuery;
  /** The snapshot directory to create; it must not exist, or be empty. */
  readonly dir: string;
  readonly keys: SigningKeyPair;
  readonly clock: Clock;
  /** gzip the data files (default true). */
  readonly gzip?: boolean;
  /** Stops the export between rows; the partial directory is removed. */
  readonly signal?: AbortSignal;
  /** Override the generated id (tests). */
  readonly id?: string;
}

/** What was written. */
export interface SnapshotResult {
  readonly dir: string;
  readonly manifest: SnapshotManifest;
  /** The exact bytes of manifest.json. */
  readonly manifestBytes: Uint8Array;
}

const SNAPSHOT_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{12}$/;

/** True for an id made by `snapshotId` (safe as a directory name and in a URL). */
export function isSnapshotId(id: string): boolean {
  return SNAPSHOT_ID.test(id);
}

/**
 * "YYYYMMDDTHHMMSSZ-<12 hex of the query's SHA-256>", the time being the
 * query's `received_before`: the same pinned query always gets the same id.
 */
export function snapshotId(receivedBeforeMs: number, query: ExportQuery['canonical']): string {
  const time = new Date(Math.floor(receivedBeforeMs / 1000) * 1000).toISOString().slice(0, 19).replace(/[-:]/g, '') + 'Z';
  return `${time}-${createHash('sha256').update(JSON.stringify(orderedQuery(query))).digest('hex').slice(0, 12)}`;
}

function checkTarget(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory() || readdirSync(dir).length > 0) {
    throw new SteppeError('STEPPE_ERR_INVALID_ARGUMENT', `${dir} exists and is not an empty directory: a snapshot is written into a new one`);
  }
}

/**
 * Write a dataset snapshot: the three exports (JSON Lines with proofs, CSV,
 * OONI JSON Lines) from one pass over the store, so all three hold exactly
 * the same measurements, then manifest.json (query, counts, time range,
 * versions, size and SHA-256 of each file) and manifest.sig, the collector's
 * ed25519 signature over the manifest's bytes. The query is pinned with
 * `received_before` (now, unless given) so it can be rerun exactly.
 *
 * Everything is written into a sibling temporary directory that is renamed
 * into place at the end: a snapshot directory is either complete or absent.
 */
export async function writeSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  const gzip = options.gzip ?? true;
  const createdMs = options.clock.now();
  checkTarget(options.dir);
  const filter = { ...options.query.filter, receivedBefore: options.query.filter.receivedBefore ?? createdMs };
  const canonical = orderedQuery({ ...options.query.canonical, received_before: new Date(filter.receivedBefore).toISOString() });
  const id = options.id ?? snapshotId(filter.receivedBefore, canonical);
  const tmp = join(dirname(options.dir), `.${basename(options.dir)}.partial-${randomBytes(6).toString('hex')}`);
  await mkdir(tmp, { recursive: true, mode: 0o755 });

  const order: ExportFormatName[] = ['jsonl', 'csv', 'ooni.jsonl'];
  const names = Object.fromEntries(order.map((f) => [f, `${EXPORT_FORMATS[f].fileName}${gzip ? '.gz' : ''}`])) as Record<ExportFormatName, string>;
  const sinks = Object.fromEntries(order.map((f) => [f, new FileSink(join(tmp, names[f]), gzip)])) as Record<ExportFormatName, FileSink>;
  const verdictCounts: Record<string, number> = {};
  let rows = 0;
  let first: number | null = null;
  let last: number | null = null;
  try {
    const jsonl = new SteppeLineWriter(new ProofWriter('compact'));
    const sealer = new ExportSealer('compact', { keys: options.keys, createdMs, query: canonical });
    const jsonlBytes = new ByteWriter(2 * EXPORT_CHUNK_BYTES);
    await sinks.csv.write(csvHeader());
    for await (const row of exportRows(options.source, filter, true)) {
      if (rows % 512 === 0) {
        if (options.signal?.aborted === true) throw new SteppeError('STEPPE_ERR_SHUTTING_DOWN', 'snapshot interrupted');
        // SQLite's reads run on the event loop: let a serving collector
        // answer its probes and other clients between pages of a long snapshot.
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const sealed of sealer.add(row)) {
        jsonl.write(jsonlBytes, sealed.row, sealed.collectorProof);
        if (jsonlBytes.pos >= EXPORT_CHUNK_BYTES) await sinks.jsonl.writeBytes(jsonlBytes.take());
      }
      const b = sinks.csv.write(csvRow(row));
      if (b !== undefined) await b;
      const c = sinks['ooni.jsonl'].write(ooniJsonLine(row, decodeStored(row)));
      if (c !== undefined) await c;
      rows += 1;
      const verdict = row.verdict === '' ? 'undetermined' : row.verdict;
      verdictCounts[verdict] = (verdictCounts[verdict] ?? 0) + 1;
      if (first === null || row.startMs < first) first = row.startMs;
      if (last === null || row.startMs > last) last = row.startMs;
    }
    for (const sealed of sealer.finish()) {
      jsonl.write(jsonlBytes, sealed.row, sealed.collectorProof);
      if (jsonlBytes.pos >= EXPORT_CHUNK_BYTES) await sinks.jsonl.writeBytes(jsonlBytes.take());
    }
    await sinks.jsonl.writeBytes(jsonlBytes.take());
    const files: ManifestFile[] = [];
    for (const format of order) {
      const { bytes, sha256 } = await sinks[format].finish();
      const seal = format === 'jsonl' ? { export_id: Buffer.from(sealer.exportId).toString('hex'), export_root: sealer.exportRoot?.toString('hex') ?? null } : {};
      files.push({ name: names[format], format, compression: gzip ? 'gzip' : 'none', rows, bytes, sha256, ...seal });
    }
    const manifest: SnapshotManifest = {
      format: MANIFEST_FORMAT,
      manifest_version: MANIFEST_VERSION,
      snapshot_id: id,
      created_at: new Date(createdMs).toISOString(),
      collector: collectorBlock(options.keys, SOFTWARE_NAME, SOFTWARE_VERSION),
      query: canonical,
      schema: {
        wire_format: 'steppe.v1 (proto/steppe/v1/steppe.proto)',
        steppe_jsonl_schema_version: STEPPE_JSONL_SCHEMA_VERSION,
        csv_columns_version: CSV_COLUMNS_VERSION,
        ooni_data_format_version: OONI_DATA_FORMAT_VERSION,
        verdict_engine_version: ENGINE_VERSION,
      },
      row_count: rows,
      time_range: {
        first_measurement: first === null ? null : new Date(first).toISOString(),
        last_measurement: last === null ? null : new Date(last).toISOString(),
      },
      verdict_counts: Object.fromEntries(Object.entries(verdictCounts).sort(([x], [y]) => x.localeCompare(y))),
      files,
    };
    const manifestBytes = serializeManifest(manifest);
    await writeFile(join(tmp, MANIFEST_FILE), manifestBytes, { flag: 'wx', mode: 0o644 });
    await writeFile(join(tmp, SIGNATURE_FILE), signManifest(manifestBytes, options.keys), { flag: 'wx', mode: 0o644 });
    if (existsSync(options.dir)) await rmdir(options.dir); // checked empty above
    await rename(tmp, options.dir);
    return { dir: options.dir, manifest, manifestBytes };
  } catch (err) {
    for (const sink of Object.values(sinks)) sink.abort();
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** A one-line description of a snapshot for logs and CLI output. */
export function describeSnapshot(result: SnapshotResult): string {
  const m = result.manifest;
  return `snapshot ${m.snapshot_id}: ${m.row_count} measurements (${m.time_range.first_measurement ?? '-'} .. ${m.time_range.last_measurement ?? '-'}) in ${result.dir}, signed by ${m.collector.key_fingerprint}`;
}

