import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_LIST_BUNDLE_FORMAT, ipToBytes, verifyMeasurementProof } from '@steppe/shared';
import { CONTROL_SOURCE, type Lab, startLab } from '../lab/src/index.js';

// The whole chain through the real programs: `steppe-probe measure
// --collector` (engine → outbox → signed batches over WebSocket) into
// `steppe-collector serve` (control, ingest, store, API, exports, dashboard),
// against the censorship lab. What a researcher downloads must verify, and
// the probe's address must be nowhere in what the collector keeps.

const COLLECTOR_BIN = fileURLToPath(new URL('../../collector/bin/steppe-collector.js', import.meta.url));
const PROBE_BIN = fileURLToPath(new URL('../../probe/bin/steppe-probe.js', import.meta.url));
const LOOPBACK = '127.0.0.0/8';
// A distinctive in-country source (Kazakhtelecom's lab /24): searched for in the database afterwards.
const PROBE_SOURCE = '127.0.2.213';

let lab: Lab;
let dir: string;
let collector: ChildProcess;
let base: string;
let collectorLog = '';

function startServe(args: string[]): Promise<string> {
  collector = spawn(process.execPath, [COLLECTOR_BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${collectorLog}`)), 30_000);
    collector.stdout?.on('data', (chunk: Buffer) => {
      collectorLog += chunk.toString();
      const m = /"event":"listening","url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(collectorLog);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    collector.stderr?.on('data', (chunk: Buffer) => { collectorLog += chunk.toString(); });
    collector.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${collectorLog}`));
    });
  });
}

function runProbe(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [PROBE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  lab = await startLab();
  dir = mkdtempSync(join(tmpdir(), 'steppe-serve-e2e-'));
  writeFileSync(join(dir, 'networks.json'), JSON.stringify([
    { cidr: '127.0.2.0/24', asn: 9198, cc: 'KZ', name: 'JSC Kazakhtelecom' },
    { cidr: '127.0.4.0/24', asn: 21299, cc: 'KZ', name: 'Kar-Tel LLC (Beeline)' },
  ]));
  writeFileSync(join(dir, 'admin-token'), 'e2e-admin-token-0123456789\n');
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify({
    format: TEST_LIST_BUNDLE_FORMAT,
    version: 'e2e-1',
    lists: [{ name: 'core', csv: 'url,category_code,category_description,date_added,source,notes\nhttps://www.facebook.com/,GRP,Social Networking,2014-04-15,citizenlab,\n' }],
  }));
  base = await startServe([
    '--db', join(dir, 'collector.db'), '--port', '0', '--host', '127.0.0.1',
    '--networks', join(dir, 'networks.json'), '--no-geo-databases',
    '--control-resolver', lab.resolver.address, '--control-local-address', CONTROL_SOURCE,
    '--allow-net', LOOPBACK, '--ca-file', lab.rootCaFile,
    '--admin-token-file', join(dir, 'admin-token'), '--test-lists', join(dir, 'bundle.json'), '--export-workers', '1',
  ]);
}, 60_000);

afterAll(async () => {
  if (collector !== undefined && collector.exitCode === null) {
    const exited = new Promise((resolve) => collector.once('exit', resolve));
    collector.kill('SIGTERM');
    await exited;
  }
  await lab?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('probe → collector → researcher, through the real programs', () => {
  const measured: { id: string; input: string; verdict: string }[] = [];

  it('measures in-country, uploads signed batches and exits once all are acked', async () => {
    lab.censor.apply({ domains: ['www.facebook.com'], networks: ['kazakhtelecom'], behaviour: { kind: 'sni-reset' } });
    const urls = [lab.url('www.facebook.com', 'https', '/?serve-e2e=1'), lab.url('vlast.kz', 'https', '/?serve-e2e=1')];
    const result = await runProbe([
      'measure', ...urls,
      '--allow-net', LOOPBACK, '--local-address', PROBE_SOURCE, '--resolver', lab.resolver.address,
      '--control', base, '--ca-file', lab.rootCaFile, '--interception-roots', lab.stateRootFile, '--lab-addresses', LOOPBACK,
      '--collector', base, '--data-dir', join(dir, 'probe'), '--upload-timeout-ms', '30000',
    ]);
    expect(result.code, result.stderr).toBe(0);
    for (const line of result.stdout.trim().split('\n')) {
      const m = JSON.parse(line) as { id: string; input: string; verdict: string };
      measured.push({ id: m.id, input: m.input, verdict: m.verdict });
    }
    expect(measured).toHaveLength(2);
    expect(measured.find((m) => m.input.includes('facebook'))?.verdict).toBe('tls');
    expect(measured.find((m) => m.input.includes('vlast'))?.verdict).toBe('accessible');
  }, 90_000);

  it('serves what it stored with the network derived from the connection', async () => {
    const list = await getJson('/api/v1/measurements?since=2000-01-01&probe_asn=AS9198');
    expect(list.status).toBe(200);
    const results = list.body['results'] as { measurement_id: string; probe_asn: number; probe_cc: string; verdict: string }[];
    for (const m of measured) {
      const row = results.find((r) => r.measurement_id === m.id);
      expect(row, `${m.id} in ${JSON.stringify(list.body).slice(0, 600)}`).toBeDefined();
      expect(row?.probe_cc).toBe('KZ');
      expect(row?.verdict).toBe(m.verdict);
    }
  });

  it('gives each measurement a proof anyone can verify, and tampering breaks it', async () => {
    const id = measured[0]?.id ?? '';
    const { status, body } = await getJson(`/api/v1/measurements/${id}`);
    expect(status).toBe(200);
    expect(body['probe_network_name']).toBe('JSC Kazakhtelecom');
    const proof = body['proof'] as { raw_measurement: string; batch_header: string; signature: string; public_key: string };
    const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
    expect(verifyMeasurementProof(b(proof.raw_measurement), b(proof.batch_header), b(proof.signature), b(proof.public_key))).toBe(true);
    const tampered = b(proof.raw_measurement);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    expect(verifyMeasurementProof(tampered, b(proof.batch_header), b(proof.signature), b(proof.public_key))).toBe(false);
  });

  it('exports, charts and counts what was ingested', async () => {
    const csv = await (await fetch(`${base}/api/v1/exports/measurements.csv?since=2000-01-01`)).text();
    for (const m of measured) expect(csv).toContain(m.id);
    // JSON Lines come from the export worker (--export-workers 1): every measurement, with its probe signature.
    const jsonl = (await (await fetch(`${base}/api/v1/exports/measurements.jsonl?since=2000-01-01`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { id: string; proof: unknown });
    expect(jsonl.map((l) => l.id).sort()).toEqual(measured.map((m) => m.id).sort());
    for (const line of jsonl) expect(line.proof).not.toBeNull();
    const svg = await fetch(`${base}/api/v1/timeline.svg?since=${new Date(Date.now() - 86_400_000).toISOString()}&domain=www.facebook.com`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toMatch(/image\/svg\+xml/);
    expect(await svg.text()).toContain('www.facebook.com');
    const page = await fetch(`${base}/dashboard`);
    expect(page.status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/steppe_ingest_measurements_total\{result="stored"\} 2/);
    expect((await getJson('/healthz')).body['status']).toBe('ok');
  });

  it('offers its test-list bundle and seeds the Nur-Sultan 2020 event', async () => {
    const bundle = await getJson('/api/v1/test-lists/e2e-1');
    expect(bundle.status).toBe(200);
    expect(bundle.body['version']).toBe('e2e-1');
    expect((await fetch(`${base}/api/v1/test-lists/other`)).status).toBe(404);
    const events = await getJson('/api/v1/events');
    expect(JSON.stringify(events.body)).toContain('Cyber Security Nur-Sultan 2020');
    const denied = await fetch(`${base}/api/v1/events`, { method: 'POST', body: '{}' });
    expect(denied.status).toBe(401);
  });

  it('keeps no trace of the probe address in any file it wrote', () => {
    const text = Buffer.from(PROBE_SOURCE);
    const binary = Buffer.from(ipToBytes(PROBE_SOURCE) ?? new Uint8Array());
    const files = readdirSync(dir).filter((f) => f.startsWith('collector.db'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.includes(text), `${f} holds the probe address as text`).toBe(false);
      expect(bytes.includes(binary), `${f} holds the probe address as bytes`).toBe(false);
    }
    expect(collectorLog).not.toContain(PROBE_SOURCE);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => collector.once('exit', (code) => resolve(code)));
    collector.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(collectorLog).toMatch(/"event":"stopped"/);
  });
});
