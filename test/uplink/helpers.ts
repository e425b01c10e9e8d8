import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMeasurement, wire } from '@steppe/shared';
import { attachIngest, type IngestHandle, type IngestOptions } from '../../collector/src/ingest/index.js';
import { openSqliteStore, type SqliteStore } from '../../collector/src/store/sqlite-store.js';
import type { Store } from '../../collector/src/store/store.js';
import { loadOrCreateIdentity, type ProbeIdentity } from '../../probe/src/identity/index.js';
import { Outbox } from '../../probe/src/outbox/index.js';
import { realisticMeasurement, seededRandom } from './fixtures/realistic-measurements.js';

/** A collector in this process: http server + ingest + SqliteStore in a temp dir. */
export interface LocalCollector {
  readonly url: string;
  readonly server: Server;
  readonly ingest: IngestHandle;
  readonly store: SqliteStore;
  readonly dbPath: string;
  close(): Promise<void>;
}

export async function startLocalCollector(dir: string, options: Partial<IngestOptions> = {}, host = '127.0.0.1', listenPort = 0): Promise<LocalCollector> {
  const dbPath = join(dir, `collector-${Math.random().toString(16).slice(2)}.sqlite`);
  const store = await openSqliteStore(dbPath);
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  const ingest = attachIngest(server, { store, ...options });
  await new Promise<void>((resolve) => server.listen(listenPort, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    server,
    ingest,
    store,
    dbPath,
    close: async () => {
      await ingest.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

/** A probe's data dir with identity and outbox. */
export interface LocalProbe {
  readonly dir: string;
  readonly identity: ProbeIdentity;
  readonly outbox: Outbox;
}

export function makeProbe(dir: string): LocalProbe {
  const identity = loadOrCreateIdentity(dir);
  const outbox = Outbox.open(join(dir, 'outbox.sqlite'));
  return { dir, identity, outbox };
}

/** Queue `count` realistic measurements starting at `startMs`, `stepMs` apart; returns their ids (hex). */
export function queueMeasurements(probe: LocalProbe, count: number, startMs: number, stepMs: number, seed = 1, outbox: Outbox = probe.outbox): string[] {
  const rand = seededRandom(seed);
  const ids: string[] = [];
  const items = [];
  for (let i = 0; i < count; i += 1) {
    const m = realisticMeasurement(probe.identity.probeId, startMs + i * stepMs, rand);
    const bytes = encodeMeasurement(m);
    const id = wire.Measurement.decode(bytes).id;
    ids.push(Buffer.from(id).toString('hex'));
    items.push({ id, startTimeMs: startMs + i * stepMs, bytes });
  }
  outbox.enqueueMany(items);
  return ids;
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Every item of an async iterable (Array.fromAsync arrives with Node 22). */
export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Hex ids of every measurement a store holds, in start order. */
export async function storedIds(store: Pick<Store, 'iterateRecords'>): Promise<string[]> {
  return (await toArray(store.iterateRecords({}, { order: 'asc' }))).map((r) => Buffer.from(r.id).toString('hex'));
}

/** The ids stored in a database file, opened and closed for the purpose. */
export async function storedIdsIn(dbPath: string): Promise<string[]> {
  const store = await openSqliteStore(dbPath);
  try {
    return await storedIds(store);
  } finally {
    await store.close();
  }
}
