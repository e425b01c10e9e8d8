import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idToString, schemaVersion, verifyMeasurementProof } from '@steppe/shared';

// Upgrade safety: a probe data directory made by v0.1 (committed test data,
// probe/test/fixtures/v0.1-data-dir) must open with this version, show in
// `status` and deliver what it queued to a real collector. Everything runs
// through the built programs, on loopback only.

const FIXTURE = fileURLToPath(new URL('../../probe/test/fixtures/v0.1-data-dir/', import.meta.url));
const PROBE_BIN = fileURLToPath(new URL('../../probe/bin/steppe-probe.js', import.meta.url));
const COLLECTOR_BIN = fileURLToPath(new URL('../../collector/bin/steppe-collector.js', import.meta.url));

interface Expected {
  readonly probeId: string;
  readonly fingerprint: string;
  readonly collector: string;
  readonly consentVersion: number;
  readonly consentAcceptedAt: string;
  readonly testListVersion: string;
  readonly queuedIds: readonly string[];
  readonly queuedBytes: number;
  readonly fileModes: Readonly<Record<string, string>>;
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
const collectorUrl = new URL(expected.collector);

let work: string;
let dataDir: string;
let collector: ChildProcess | undefined;
let collectorLog = '';

function run(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // English whatever the machine's locale: the text form is matched below.
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, STEPPE_LANG: 'en' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function mode(path: string): string {
  return `0${(statSync(path).mode & 0o777).toString(8)}`;
}

/** `steppe-collector serve` at the fixture's collector address, mapping the probe's lab network to AS9198. */
function startCollector(): Promise<void> {
  writeFileSync(join(work, 'networks.json'), JSON.stringify([{ cidr: '127.0.2.0/24', asn: 9198, cc: 'KZ', name: 'JSC Kazakhtelecom' }]));
  const child = spawn(process.execPath, [
    COLLECTOR_BIN, 'serve', '--db', join(work, 'collector.db'), '--host', collectorUrl.hostname, '--port', collectorUrl.port,
    '--networks', join(work, 'networks.json'), '--no-geo-databases', '--control-resolver', '127.0.0.1:9', '--allow-net', '127.0.0.0/8',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  collector = child;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${collectorLog}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      collectorLog += chunk.toString();
      if (collectorLog.includes('"event":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => { collectorLog += chunk.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before listening: ${collectorLog}`));
    });
  });
}

async function stored(id: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(new URL(`/api/v1/measurements/${idToString(Buffer.from(id, 'hex'))}`, collectorUrl));
  return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : undefined;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'steppe-v01-'));
  dataDir = join(work, 'probe');
  cpSync(join(FIXTURE, 'data'), dataDir, { recursive: true });
  // Git keeps no modes: put back those v0.1 left (README.md), outbox.sqlite 0644 among them.
  for (const [path, m] of Object.entries(expected.fileModes)) chmodSync(join(dataDir, path), Number.parseInt(m, 8));
});

afterAll(async () => {
  if (collector !== undefined && collector.exitCode === null) {
    const exited = new Promise((resolve) => collector?.once('exit', resolve));
    collector.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

describe('a v0.1 data directory, opened by this version', () => {
  it('shows in status: config, identity, consent, lists, the six queued measurements, last run', async () => {
    expect(mode(join(dataDir, 'outbox.sqlite'))).toBe('0644');
    const { code, stdout, stderr } = await run(PROBE_BIN, ['status', '--json', '--data-dir', dataDir, '--timeout-ms', '300']);
    expect(code, stderr).toBe(0);
    const status = JSON.parse(stdout) as Record<string, Record<string, unknown> & { lastRuns?: unknown[] }>;
    expect(status['config']).toMatchObject({ collectors: [expected.collector], categories: ['NEWS', 'GRP'], lists: ['core'] });
    expect(status['identity']).toEqual({ probeId: expected.probeId, fingerprint: expected.fingerprint });
    expect(status['consent']).toMatchObject({ version: expected.consentVersion, acceptedAt: expected.consentAcceptedAt, method: 'accept-risks-flag', current: true });
    expect(status['testLists']).toEqual({ version: expected.testListVersion, origin: 'collector' });
    expect(status['outbox']).toMatchObject({ count: expected.queuedIds.length, bytes: expected.queuedBytes, dropped: 0, quarantined: 0 });
    expect(status['outbox']?.['lastUploadMs']).toBeUndefined();
    expect(status['lastRuns']).toHaveLength(1);

    const text = await run(PROBE_BIN, ['status', '--data-dir', dataDir, '--timeout-ms', '300']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`queued +${expected.queuedIds.length} measurements`));
  });

  it('was brought forward on open: outbox schema migrated in place, every file private again', () => {
    const db = new Database(join(dataDir, 'outbox.sqlite'), { readonly: true });
    try {
      expect(schemaVersion(db)).toBeGreaterThanOrEqual(2);
      expect((db.prepare('SELECT lower(hex(id)) FROM outbox ORDER BY start_time_ms, id').pluck().all() as string[])).toEqual(expected.queuedIds);
    } finally {
      db.close();
    }
    for (const path of Object.keys(expected.fileModes)) {
      const isDir = statSync(join(dataDir, path)).isDirectory();
      expect(`${path} ${mode(join(dataDir, path))}`).toBe(`${path} ${isDir ? '0700' : '0600'}`);
    }
  });

  it('delivers what v0.1 queued to a collector, which stores it signed by the v0.1 key', async () => {
    await startCollector();
    const daemon = spawn(process.execPath, [PROBE_BIN, 'start', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    daemon.stdout.on('data', (c: Buffer) => { log += c.toString(); });
    daemon.stderr.on('data', (c: Buffer) => { log += c.toString(); });
    const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      let missing = [...expected.queuedIds];
      while (missing.length > 0 && Date.now() < deadline && daemon.exitCode === null) {
        const found = await Promise.all(missing.map(async (id) => ((await stored(id)) !== undefined ? id : undefined)));
        missing = missing.filter((id) => !found.includes(id));
        if (missing.length > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(missing, `probe log:\n${log}\ncollector log:\n${collectorLog}`).toEqual([]);
    } finally {
      daemon.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    for (const id of expected.queuedIds) {
      const m = await stored(id);
      expect(m?.['probe_id']).toBe(expected.probeId);
      expect(m?.['probe_asn']).toBe(9198);
      const proof = m?.['proof'] as { raw_measurement: string; batch_header: string; signature: string; public_key: string };
      const b = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
      expect(verifyMeasurementProof(b(proof.raw_measurement), b(proof.batch_header), b(proof.signature), b(proof.public_key))).toBe(true);
    }
    const verdicts = await Promise.all(expected.queuedIds.map(async (id) => (await stored(id))?.['verdict']));
    expect(verdicts.filter((v) => v === 'blockpage')).toHaveLength(1);

    const after = await run(PROBE_BIN, ['status', '--json', '--data-dir', dataDir, '--timeout-ms', '300']);
    const outbox = (JSON.parse(after.stdout) as { outbox: { count: number; lastUploadMs?: number } }).outbox;
    expect(outbox.count).toBe(0);
    expect(outbox.lastUploadMs).toBeGreaterThan(0);
  }, 60_000);
});
