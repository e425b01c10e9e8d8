import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import {
  type MeasurementProps,
  ManualClock,
  decodeMeasurement,
  encodeMeasurement,
  generateSigningKeyPair,
  newId,
  probeIdFromPublicKey,
  sealBatch,
} from '@steppe/shared';
import {
  type ExportFormatName,
  type ExportOptions,
  JsonlWorkerPool,
  type SealOptions,
  type SqliteStore,
  chunked,
  exportChunks,
  exportChunksParallel,
  exportLines,
  newCounter,
  openSqliteStore,
  parseExportQuery,
  writeSnapshot,
} from 'steppe-collector';

// Export throughput of the collector's dataset exporters (collector/src/export):
// rows per second and CPU time per format, plain and gzip, and a full snapshot.
// Usage:
//   node bench/dist/bench/export/run.js [--seed 50000] [--batch 100]   (a temporary database)
//   node bench/dist/bench/export/run.js --db /tmp/steppe-bench/bench.db --limit 100000
//   node bench/dist/bench/export/run.js --seed 20000 --seal-rounds 7   (the collector seal's cost only)
const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    seed: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '100' },
    limit: { type: 'string', default: '100000' },
    // Only the cost of sealing: N rounds alternating unsealed, sealed and
    // signature-per-line JSON Lines, so that a busy machine's load falls on
    // all three alike.
    'seal-rounds': { type: 'string' },
  },
});

const SUMMIT_MS = Date.UTC(2020, 11, 6, 4, 2);
const DOMAINS = ['www.facebook.com', 'www.instagram.com', 'www.youtube.com', 'vk.com', 'medianet.kz'];

function measurement(probeId: string, i: number): MeasurementProps {
  const domain = DOMAINS[i % DOMAINS.length] ?? 'www.facebook.com';
  const blocked = i % 3 === 0;
  const ip = `157.240.${i % 250}.35`;
  return {
    id: newId(SUMMIT_MS + i * 1000),
    probeId,
    testName: 'web_connectivity',
    testVersion: '0.1.0',
    softwareName: 'steppe-probe',
    softwareVersion: '0.1.0',
    startTimeMs: SUMMIT_MS + i * 1000,
    runtimeMs: 1234.5,
    input: `https://${domain}/`,
    domain,
    categoryCode: 'GRP',
    observations: {
      dnsQueries: [{ resolver: '92.46.63.11:53', transport: 1, queryType: 'A', hostname: domain, responses: [{ rcode: 0, answers: [{ answerType: 'A', value: ip, ttl: 300 }], tMs: 21.5, idMatches: true }], t0Ms: 1, t1Ms: 21.6 }],
      tcpConnects: [{ ip, port: 443, failure: '', t0Ms: 22, t1Ms: 61.3 }],
      tlsHandshakes: [{ serverName: domain, ip, port: 443, failure: blocked ? 'connection_reset' : '', tlsVersion: blocked ? '' : 'TLSv1.3', t0Ms: 61.4, t1Ms: 102.9 }],
      httpRequests: blocked ? [] : [{ url: `https://${domain}/`, method: 'GET', statusCode: 200, bodyLength: 52_311, bodyPrefix: Buffer.from(`<html><head><title>${domain}</title></head><body>${'x'.repeat(900)}</body></html>`), title: domain, responseHeaders: [{ name: 'content-type', value: 'text/html' }, { name: 'server', value: 'proxygen' }], t0Ms: 103, t1Ms: 240 }],
    },
    control: {
      dns: { addresses: [{ ip, asn: 32934, asOrg: 'Facebook, Inc.' }] },
      tcp: [{ ip, port: 443 }],
      tls: [{ serverName: domain, ip, port: 443, validForDomain: true }],
      http: { statusCode: 200, bodyLength: 52_000, title: domain, headerNames: ['content-type', 'server'] },
      measuredAtMs: SUMMIT_MS + i * 1000 + 50,
      helper: 'https://collector.example.org',
    },
    analysis: blocked
      ? { verdict: 'tls', blockingType: 'sni_reset', anomaly: true, failure: 'connection_reset', failedStep: 'tls_handshake', evidence: ['tls_handshakes[0] failed with connection_reset'], engineVersion: '1.0.0' }
      : { verdict: 'accessible', accessible: true, evidence: ['matches control'], engineVersion: '1.0.0' },
  };
}

async function seed(store: SqliteStore, count: number, batchSize: number): Promise<void> {
  const probes = Array.from({ length: 20 }, () => {
    const keys = generateSigningKeyPair();
    return { keys, probeId: probeIdFromPublicKey(keys.publicKey) };
  });
  for (const p of probes) await store.registerProbe(p.probeId, p.keys.publicKey, SUMMIT_MS, { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' });
  let i = 0;
  let sequence = 0;
  while (i < count) {
    const probe = probes[sequence % probes.length];
    if (probe === undefined) break;
    sequence += 1;
    const raws: Uint8Array[] = [];
    for (let k = 0; k < batchSize && i < count; k += 1, i += 1) raws.push(encodeMeasurement(measurement(probe.probeId, i)));
    const batch = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence, createdMs: SUMMIT_MS, measurements: raws });
    await store.commitBatches([{
      probeId: probe.probeId,
      sequence,
      header: batch.header ?? new Uint8Array(),
      signature: batch.signature ?? new Uint8Array(),
      receivedMs: SUMMIT_MS + 3_600_000,
      network: { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' },
      measurements: raws.map((raw) => {
        const d = decodeMeasurement(raw);
        if (!d.ok) throw d.error;
        return { id: d.value.id, raw, decoded: d.value };
      }),
    }]);
  }
}

/** Counts bytes and drops them. */
function sink(counter: { bytes: number }): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      counter.bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      callback();
    },
  });
}

/** Three runs; the median of rows/s (wall and of the process's CPU, every thread), with the load average around them. */
async function run(label: string, fn: (counter: { bytes: number }) => Promise<number>): Promise<void> {
  const walls: number[] = [];
  const cpus: number[] = [];
  const load = [loadavg()[0] ?? 0];
  let rows = 0;
  let bytes = 0;
  for (let i = 0; i < 3; i += 1) {
    const counter = { bytes: 0 };
    const cpu = process.cpuUsage();
    const t = performance.now();
    rows = await fn(counter);
    const wall = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    walls.push(rows / wall);
    cpus.push(rows / ((used.user + used.system) / 1e6));
    bytes = counter.bytes;
    load.push(loadavg()[0] ?? 0);
  }
  const median = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[1] ?? 0);
  process.stdout.write(`${label}: ${rows} rows, median ${median(walls)} rows/s wall (${walls.map(Math.round).join(' / ')}), ${median(cpus)} rows/s of CPU, ${(bytes / rows).toFixed(0)} B/row; load ${load.map((l) => l.toFixed(1)).join(' → ')}\n`);
}

/**
 * CPU per line of JSON Lines unsealed, sealed (pages of 256) and with a
 * signature per line (pages of 1), in alternating rounds: medians of rows/s
 * of CPU and the extra microseconds of CPU per line.
 */
async function sealCost(filter: { until?: number }, rounds: number): Promise<void> {
  const keys = generateSigningKeyPair();
  for (const proofs of ['compact', 'full'] as const) {
    const variants: [string, SealOptions | undefined][] = [
      ['unsealed', undefined],
      ['sealed, pages of 256', { keys, createdMs: Date.now(), pageLines: 256 }],
      ['a signature per line', { keys, createdMs: Date.now(), pageLines: 1 }],
    ];
    const cpu: number[][] = variants.map(() => []);
    let bytes: number[] = variants.map(() => 0);
    for (let r = 0; r < rounds; r += 1) {
      for (const [i, [, seal]] of variants.entries()) {
        const counter = { bytes: 0 };
        const rows = newCounter();
        const start = process.cpuUsage();
        await pipeline(Readable.from(exportChunks(store, filter, 'jsonl', rows, { proofs, ...(seal === undefined ? {} : { seal }) })), sink(counter));
        const used = process.cpuUsage(start);
        cpu[i]?.push((used.user + used.system) / rows.rows);
        bytes = bytes.map((b, k) => (k === i ? counter.bytes / rows.rows : b));
      }
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const base = median(cpu[0] ?? []);
    variants.forEach(([label], i) => {
      const us = median(cpu[i] ?? []);
      process.stdout.write(`jsonl (${proofs} proofs), ${label}: ${(1e6 / us).toFixed(0)} rows/s of CPU, ${us.toFixed(1)} us CPU/row (${i === 0 ? 'base' : `+${(us - base).toFixed(1)} us, ${((base / us - 1) * 100).toFixed(0)} % throughput`}), ${(bytes[i] ?? 0).toFixed(0)} B/row; ${rounds} rounds, load ${(loadavg()[0] ?? 0).toFixed(1)}\n`);
    });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'steppe-export-bench-'));
const store = await openSqliteStore(values.db ?? join(dir, 'bench.db'), { cacheMiB: 256 });
try {
  if (values.db === undefined) {
    const t = performance.now();
    await seed(store, Number(values.seed), Number(values.batch));
    process.stdout.write(`seeded ${values.seed} signed measurements in batches of ${values.batch} (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
  }
  const total = await store.countMeasurements({});
  const limit = Math.min(total, Number(values.limit));
  // Take the first `limit` measurements by time.
  let until = Number.MAX_SAFE_INTEGER;
  let k = 0;
  for await (const r of store.iterateRecords({}, { order: 'asc', pageSize: 10_000 })) {
    if ((k += 1) > limit) {
      until = r.startMs;
      break;
    }
  }
  const filter = until === Number.MAX_SAFE_INTEGER ? {} : { until };
  process.stdout.write(`database: ${total} measurements; exporting ${limit}\n`);
  if (values['seal-rounds'] !== undefined) {
    await sealCost(filter, Number(values['seal-rounds']));
    process.exit(0);
  }
  const pool1 = new JsonlWorkerPool(1);

  await run('store rows + exact bytes + proofs only', async () => {
    let n = 0;
    for await (const row of store.iterateMeasurements(filter, { order: 'asc', pageSize: 2000, withProofs: true })) if (row.raw.length > 0) n += 1;
    return n;
  });
  // What the HTTP routes stream (exportChunks / exportChunksParallel), and
  // the reference path they replaced for JSON Lines (exportLines: decode,
  // steppeJson, JSON.stringify), which produces the same bytes.
  const pool = new JsonlWorkerPool(2);
  // JSON Lines are sealed as the routes seal them (export-sealer.ts: one
  // signature per page of 256 lines); `pageLines` 1 is the alternative of a
  // signature per line, 0 no seal at all (what it costs: dd-006).
  const collectorKeys = generateSigningKeyPair();
  const seal = (pageLines: number): SealOptions => ({ keys: collectorKeys, createdMs: Date.now(), pageLines });
  const formats: [string, ExportFormatName, 'compact' | 'full', 'chunks' | 'lines' | 1 | 2, number][] = [
    ['csv', 'csv', 'compact', 'chunks', 0],
    ['jsonl (compact proofs), sealed, main thread', 'jsonl', 'compact', 'chunks', 256],
    ['jsonl (compact proofs), unsealed, main thread', 'jsonl', 'compact', 'chunks', 0],
    ['jsonl (compact proofs), a signature per line, main thread', 'jsonl', 'compact', 'chunks', 1],
    ['jsonl (compact proofs), sealed, 1 worker', 'jsonl', 'compact', 1, 256],
    ['jsonl (compact proofs), sealed, 2 workers', 'jsonl', 'compact', 2, 256],
    ['jsonl (full proofs), sealed, main thread', 'jsonl', 'full', 'chunks', 256],
    ['jsonl (full proofs), unsealed, main thread', 'jsonl', 'full', 'chunks', 0],
    ['jsonl (full proofs), a signature per line, main thread', 'jsonl', 'full', 'chunks', 1],
    ['jsonl (compact proofs), sealed, before: exportLines', 'jsonl', 'compact', 'lines', 256],
    ['ooni.jsonl', 'ooni.jsonl', 'compact', 'chunks', 0],
  ];
  for (const [label, format, proofs, how, pageLines] of formats) {
    await run(label, async (counter) => {
      const rows = newCounter();
      const options: ExportOptions = { proofs, ...(pageLines === 0 ? {} : { seal: seal(pageLines) }) };
      const chunks = how === 'lines' ? chunked(exportLines(store, filter, format, rows, options))
        : how === 'chunks' ? exportChunks(store, filter, format, rows, options)
          : exportChunksParallel(store, filter, format, how === 1 ? pool1 : pool, rows, options);
      await pipeline(Readable.from(chunks), sink(counter));
      return rows.rows;
    });
  }
  await run('jsonl (compact proofs), gzip, main thread', async (counter) => {
    const rows = newCounter();
    await pipeline(Readable.from(exportChunks(store, filter, 'jsonl', rows, { seal: seal(256) })), createGzip(), sink(counter));
    return rows.rows;
  });
  await pool.close();
  await pool1.close();
  let snapshots = 0;
  await run('snapshot (3 files, gzip, signed)', async (counter) => {
    snapshots += 1;
    const target = join(dir, `snapshot-${snapshots}`);
    const result = await writeSnapshot({
      source: store,
      query: parseExportQuery(new URLSearchParams(until === Number.MAX_SAFE_INTEGER ? '' : `until=${new Date(until).toISOString()}`)),
      dir: target,
      keys: generateSigningKeyPair(),
      clock: new ManualClock(Date.now()),
    });
    counter.bytes = result.manifest.files.reduce((s, f) => s + f.bytes, 0);
    rmSync(target, { recursive: true, force: true });
    return result.manifest.row_count;
  });
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
