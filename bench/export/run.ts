import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import { type ExportFormatName, type SqliteStore, chunked, exportLines, openSqliteStore, parseExportQuery, writeSnapshot } from 'steppe-collector';

// Export throughput of the collector's dataset exporters (collector/src/export):
// rows per second and CPU time per format, plain and gzip, and a full snapshot.
// Usage:
//   node bench/dist/bench/export/run.js [--seed 50000] [--batch 100]   (a temporary database)
//   node bench/dist/bench/export/run.js --db /tmp/steppe-bench/bench.db --limit 300000
const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    seed: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '100' },
    limit: { type: 'string', default: '300000' },
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

function seed(store: SqliteStore, count: number, batchSize: number): void {
  const probes = Array.from({ length: 20 }, () => {
    const keys = generateSigningKeyPair();
    return { keys, probeId: probeIdFromPublicKey(keys.publicKey) };
  });
  for (const p of probes) store.registerProbe(p.probeId, p.keys.publicKey, SUMMIT_MS, { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' });
  let i = 0;
  let sequence = 0;
  while (i < count) {
    const probe = probes[sequence % probes.length];
    if (probe === undefined) break;
    sequence += 1;
    const raws: Uint8Array[] = [];
    for (let k = 0; k < batchSize && i < count; k += 1, i += 1) raws.push(encodeMeasurement(measurement(probe.probeId, i)));
    const batch = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence, createdMs: SUMMIT_MS, measurements: raws });
    store.commitBatches([{
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

async function run(label: string, fn: (counter: { bytes: number }) => Promise<number>): Promise<void> {
  const counter = { bytes: 0 };
  const cpu = process.cpuUsage();
  const t = performance.now();
  const rows = await fn(counter);
  const wall = (performance.now() - t) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuS = (used.user + used.system) / 1e6;
  process.stdout.write(`${label}: ${rows} rows, ${Math.round(rows / wall)} rows/s wall, ${Math.round(rows / cpuS)} rows/s of CPU, ${(counter.bytes / rows).toFixed(0)} B/row\n`);
}

const dir = mkdtempSync(join(tmpdir(), 'steppe-export-bench-'));
const store = openSqliteStore(values.db ?? join(dir, 'bench.db'), { cacheMiB: 256 });
try {
  if (values.db === undefined) {
    const t = performance.now();
    seed(store, Number(values.seed), Number(values.batch));
    process.stdout.write(`seeded ${values.seed} signed measurements in batches of ${values.batch} (${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
  }
  const total = store.countMeasurements({});
  const limit = Math.min(total, Number(values.limit));
  // Take the first `limit` measurements by time.
  let until = Number.MAX_SAFE_INTEGER;
  let k = 0;
  for (const r of store.iterateRecords({}, { order: 'asc', pageSize: 10_000 })) {
    if ((k += 1) > limit) {
      until = r.startMs;
      break;
    }
  }
  const filter = until === Number.MAX_SAFE_INTEGER ? {} : { until };
  process.stdout.write(`database: ${total} measurements; exporting ${limit}\n`);

  await run('store rows + exact bytes only', async () => {
    let n = 0;
    for (const row of store.iterateMeasurements(filter, { order: 'asc' })) if (row.raw.length > 0) n += 1;
    return n;
  });
  const formats: [string, ExportFormatName, 'compact' | 'full'][] = [
    ['csv', 'csv', 'compact'],
    ['jsonl (compact proofs)', 'jsonl', 'compact'],
    ['jsonl (full proofs)', 'jsonl', 'full'],
    ['ooni.jsonl', 'ooni.jsonl', 'compact'],
  ];
  for (const [label, format, proofs] of formats) {
    await run(label, async (counter) => {
      const rows = { rows: 0, firstStartMs: null, lastStartMs: null };
      await pipeline(Readable.from(chunked(exportLines(store, filter, format, rows, { proofs }))), sink(counter));
      return rows.rows;
    });
  }
  await run('jsonl (compact proofs), gzip', async (counter) => {
    const rows = { rows: 0, firstStartMs: null, lastStartMs: null };
    await pipeline(Readable.from(chunked(exportLines(store, filter, 'jsonl', rows))), createGzip(), sink(counter));
    return rows.rows;
  });
  await run('snapshot (3 files, gzip, signed)', async (counter) => {
    const result = await writeSnapshot({
      source: store,
      query: parseExportQuery(new URLSearchParams(until === Number.MAX_SAFE_INTEGER ? '' : `until=${new Date(until).toISOString()}`)),
      dir: join(dir, 'snapshot'),
      keys: generateSigningKeyPair(),
      clock: new ManualClock(Date.now()),
    });
    counter.bytes = result.manifest.files.reduce((s, f) => s + f.bytes, 0);
    return result.manifest.row_count;
  });
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
