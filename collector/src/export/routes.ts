import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { type Clock, InvalidArgumentError, type SigningKeyPair } from '@steppe/shared';
import { HttpError, type RequestContext, type Router, badParameter, sendJson } from '../http/router.js';
import { collectorKeyDocument } from './collector-key.js';
import { EXPORT_FORMATS, type ExportFormatName, type RecordSource, exportChunks, exportChunksParallel } from './formats.js';
import { JsonlWorkerPool } from './jsonl-pool.js';
import { MANIFEST_FILE, SIGNATURE_FILE, type SnapshotManifest, isPlainFileName } from './manifest.js';
import { type ExportQuery, orderedQuery, parseExportQuery } from './query.js';
import { isSnapshotId, snapshotId, writeSnapshot } from './snapshot.js';
import { PROOF_MODES, type ProofMode } from './steppe-jsonl.js';

/** What the export routes need. */
export interface ExportRouteDeps {
  /** The store (SqliteStore), or anything that streams rows the same way. */
  readonly store: RecordSource;
  readonly clock: Clock;
  /** The collector's signing key (`loadOrCreateCollectorKey`). */
  readonly collectorKey: SigningKeyPair;
  /** Where snapshots are written and served from; without it the snapshot routes answer 404. */
  readonly snapshotDir?: string;
  /** Streamed exports running at once (default 4); more get 429. */
  readonly maxConcurrentExports?: number;
  /**
   * Worker threads writing JSON Lines while the main thread reads the store
   * (default 0: the main thread writes them). Shared by every export;
   * started on the first JSON Lines export, stopped after 30 s without one.
   * They cost ~1.5× the CPU per line (pages copied between threads), so they
   * pay only with cores to spare (bench/export/RESULTS.md).
   */
  readonly exportWorkers?: number;
}

const API = '/api/v1';

function wantsGzipEncoding(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  return text.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

function isClientGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
}

/** Pin a query to what the collector has received now, so a long download or a snapshot is consistent. */
function pinned(query: ExportQuery, nowMs: number): ExportQuery {
  const receivedBefore = query.filter.receivedBefore ?? nowMs;
  return {
    filter: { ...query.filter, receivedBefore },
    canonical: orderedQuery({ ...query.canonical, received_before: new Date(receivedBefore).toISOString() }),
  };
}

/**
 * Register the dataset routes (docs/data-format.md):
 * - `GET /api/v1/exports/measurements.jsonl|.csv|.ooni.jsonl`: streamed
 *   exports with the filters of `GET /api/v1/measurements`; `gzip=true` gives
 *   a .gz file, `Accept-Encoding: gzip` a gzip-encoded response; JSON Lines
 *   take `proofs=compact` (default) or `proofs=full` and are sealed with the
 *   collector's key (`X-Steppe-Export-Id` names the export);
 * - `POST /api/v1/snapshots` (filters in the query string): write a signed
 *   snapshot; `GET /api/v1/snapshots` lists them; `GET
 *   /api/v1/snapshots/{id}` describes one; `GET
 *   /api/v1/snapshots/{id}/{file}` serves manifest.json, manifest.sig and
 *   the data files;
 * - `GET /api/v1/collector-key`: the public key snapshots are signed with.
 */
export function registerExportRoutes(router: Router, deps: ExportRouteDeps): void {
  const maxExports = deps.maxConcurrentExports ?? 4;
  const workers = deps.exportWorkers ?? 0;
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new InvalidArgumentError(`exportWorkers: expected an integer from 0 to 64, got ${String(workers)}`);
  const pool = workers > 0 ? new JsonlWorkerPool(workers) : undefined;
  let running = 0;
  let building: Promise<unknown> | undefined;

  const exportHandler = (format: ExportFormatName) => async (ctx: RequestContext): Promise<void> => {
    const params = ctx.url.searchParams;
    const gzipParam = params.get('gzip');
    if (gzipParam !== null && gzipParam !== 'true' && gzipParam !== 'false') throw badParameter('gzip', 'true or false', gzipParam);
    const proofsParam = params.get('proofs') ?? 'compact';
    if (!(PROOF_MODES as readonly string[]).includes(proofsParam)) throw badParameter('proofs', PROOF_MODES.join(' or '), proofsParam);
    const query = pinned(parseExportQuery(params, { extra: ['gzip', 'proofs'] }), deps.clock.now());
    if (running >= maxExports) {
      throw new HttpError(429, 'STEPPE_ERR_RATE_LIMITED', `${maxExports} exports are already running; retry later`);
    }
    const spec = EXPORT_FORMATS[format];
    // JSON Lines are sealed with the collector's key (export-sealer.ts); the id names this export.
    const exportId = randomBytes(16);
    const gzipFile = gzipParam === 'true';
    const gzipEncoding = !gzipFile && wantsGzipEncoding(ctx.req);
    const headers: Record<string, string> = {
      'content-type': gzipFile ? 'application/gzip' : spec.contentType,
      'content-disposition': `attachment; filename="${spec.fileName}${gzipFile ? '.gz' : ''}"`,
      'cache-control': 'no-store',
      vary: 'Accept-Encoding',
      'x-steppe-received-before': query.canonical.received_before ?? '',
    };
    if (format === 'jsonl') headers['x-steppe-export-id'] = exportId.toString('hex');
    if (gzipEncoding) headers['content-encoding'] = 'gzip';
    ctx.res.writeHead(200, headers);
    if (ctx.req.method === 'HEAD') {
      ctx.res.end();
      return;
    }
    running += 1;
    try {
      // Readable.from pulls the next chunk only when the socket has room:
      // the store is read page by page at the client's pace.
      const options = { proofs: proofsParam as ProofMode, seal: { keys: deps.collectorKey, createdMs: deps.clock.now(), query: query.canonical, exportId } };
      const chunks = pool === undefined ? exportChunks(deps.store, query.filter, format, undefined, options) : exportChunksParallel(deps.store, query.filter, format, pool, undefined, options);
      const body = Readable.from(chunks);
      // Level 1: JSON Lines carry base64 and PEM that barely compress, so
      // level 6 gains 6 % in size for 1.6× the CPU, and gzip bounds the
      // rate of a compressed export (bench/export/RESULTS.md).
      if (gzipFile || gzipEncoding) await pipeline(body, createGzip({ level: 1 }), ctx.res);
      else await pipeline(body, ctx.res);
    } catch (err) {
      if (!isClientGone(err)) ctx.res.destroy(err instanceof Error ? err : undefined);
    } finally {
      running -= 1;
    }
  };
  router.add('GET', `${API}/exports/measurements.jsonl`, exportHandler('jsonl'));
  router.add('GET', `${API}/exports/measurements.csv`, exportHandler('csv'));
  router.add('GET', `${API}/exports/measurements.ooni.jsonl`, exportHandler('ooni.jsonl'));

  router.add('GET', `${API}/collector-key`, ({ res }) => {
    sendJson(res, 200, collectorKeyDocument(deps.collectorKey.publicKey));
  });

  const snapshotDir = (): string => {
    if (deps.snapshotDir === undefined) throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', 'dataset snapshots are not enabled on this collector');
    return deps.snapshotDir;
  };
  const readManifest = async (id: string): Promise<SnapshotManifest> => {
    if (!isSnapshotId(id)) throw badParameter('id', 'a snapshot id such as 20201206T134700Z-0123456789ab', id);
    try {
      return JSON.parse(await readFile(join(snapshotDir(), id, MANIFEST_FILE), 'utf8')) as SnapshotManifest;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no snapshot ${id}`);
    }
  };

  router.add('POST', `${API}/snapshots`, async ({ url, res }) => {
    const dir = snapshotDir();
    const query = pinned(parseExportQuery(url.searchParams), deps.clock.now());
    const id = snapshotId(query.filter.receivedBefore ?? deps.clock.now(), query.canonical);
    if (existsSync(join(dir, id, MANIFEST_FILE))) {
      sendJson(res, 200, describe(await readManifest(id)));
      return;
    }
    if (building !== undefined) {
      throw new HttpError(429, 'STEPPE_ERR_RATE_LIMITED', 'a snapshot is being written; retry when it is done');
    }
    const job = writeSnapshot({ source: deps.store, query, dir: join(dir, id), keys: deps.collectorKey, clock: deps.clock, id });
    building = job;
    try {
      const result = await job;
      sendJson(res, 201, describe(result.manifest), { location: `${API}/snapshots/${id}` });
    } finally {
      building = undefined;
    }
  });

  router.add('GET', `${API}/snapshots`, async ({ res }) => {
    const dir = snapshotDir();
    const ids = existsSync(dir) ? (await readdir(dir)).filter(isSnapshotId).sort().reverse() : [];
    const results: unknown[] = [];
    for (const id of ids.slice(0, 1000)) {
      try {
        results.push(describe(await readManifest(id)));
      } catch {
        // a snapshot being removed: skip it
      }
    }
    sendJson(res, 200, { results });
  });

  router.add('GET', `${API}/snapshots/:id`, async ({ params, res }) => {
    sendJson(res, 200, describe(await readManifest(params['id'] ?? '')));
  });

  router.add('GET', `${API}/snapshots/:id/:file`, async ({ params, req, res }) => {
    const id = params['id'] ?? '';
    const file = params['file'] ?? '';
    const manifest = await readManifest(id);
    const listed = manifest.files.find((f) => f.name === file);
    if (!isPlainFileName(file) || (file !== MANIFEST_FILE && file !== SIGNATURE_FILE && listed === undefined)) {
      throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `snapshot ${id} has no file ${JSON.stringify(file.slice(0, 80))}`);
    }
    const path = join(snapshotDir(), id, file);
    const info = await stat(path);
    const type = file === MANIFEST_FILE ? 'application/json; charset=utf-8' : file === SIGNATURE_FILE ? 'text/plain; charset=utf-8' : file.endsWith('.gz') ? 'application/gzip' : file.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8';
    const headers: Record<string, string> = { 'content-type': type, 'content-length': String(info.size), 'cache-control': 'public, max-age=31536000, immutable' };
    if (listed !== undefined) headers['content-disposition'] = `attachment; filename="${file}"`;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    try {
      await pipeline(createReadStream(path), res);
    } catch (err) {
      if (!isClientGone(err)) res.destroy(err instanceof Error ? err : undefined);
    }
  });

  function describe(manifest: SnapshotManifest): Record<string, unknown> {
    const base = `${API}/snapshots/${manifest.snapshot_id}`;
    return {
      snapshot_id: manifest.snapshot_id,
      created_at: manifest.created_at,
      query: manifest.query,
      row_count: manifest.row_count,
      time_range: manifest.time_range,
      verdict_counts: manifest.verdict_counts,
      key_fingerprint: manifest.collector.key_fingerprint,
      manifest_url: `${base}/${MANIFEST_FILE}`,
      signature_url: `${base}/${SIGNATURE_FILE}`,
      collector_key_url: `${API}/collector-key`,
      files: manifest.files.map((f) => ({ ...f, url: `${base}/${f.name}` })),
    };
  }
}

