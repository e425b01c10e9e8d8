import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIO, ManualClock, generateSigningKeyPair } from '@steppe/shared';
import { main } from '../../src/cli/main.js';
import { loadOrCreateCollectorKey, parsePublicKeyArgument, collectorKeyDocument } from '../../src/export/collector-key.js';
import { parseExportQuery } from '../../src/export/query.js';
import { type SnapshotManifest, serializeManifest, signManifest } from '../../src/export/manifest.js';
import { type SnapshotResult, isSnapshotId, writeSnapshot } from '../../src/export/snapshot.js';
import { verifySnapshot } from '../../src/export/verify-snapshot.js';
import { SUMMIT_MS, seedSigned, tempStore } from './helpers.js';
import { describeEngines } from '../store/engines.js';

describeEngines('snapshot', (engine) => {
let t: Awaited<ReturnType<typeof tempStore>>;
let rows = 0;
let snap: SnapshotResult;
const work = mkdtempSync(join(tmpdir(), 'steppe-snapshot-'));
const keys = generateSigningKeyPair();
const clock = new ManualClock(SUMMIT_MS + 86_400_000);

beforeAll(async () => {
  t = await tempStore(() => engine.open());
  rows = await seedSigned(t.store, 5);
  snap = await writeSnapshot({
    source: t.store,
    query: parseExportQuery(new URLSearchParams('probe_cc=KZ&since=2020-12-06')),
    dir: join(work, 'original'),
    keys,
    clock,
  });
});
afterAll(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh copy of the snapshot to tamper with. */
function copy(name: string): string {
  const dir = join(work, name);
  cpSync(snap.dir, dir, { recursive: true });
  return dir;
}

function flipByte(path: string, at: (size: number) => number): void {
  const bytes = readFileSync(path);
  const i = at(bytes.length);
  bytes[i] = (bytes[i] ?? 0) ^ 0x01;
  writeFileSync(path, bytes);
}

describe('writeSnapshot', () => {
  it('writes the three exports, a manifest describing them and its signature, atomically', async () => {
    expect(readdirSync(snap.dir).sort()).toEqual(['manifest.json', 'manifest.sig', 'measurements.csv.gz', 'measurements.jsonl.gz', 'measurements.ooni.jsonl.gz']);
    expect(readdirSync(work).filter((n) => n.includes('partial'))).toEqual([]);
    const m = snap.manifest;
    expect(isSnapshotId(m.snapshot_id)).toBe(true);
    expect(m).toMatchObject({
      format: 'steppe-snapshot',
      manifest_version: 2,
      created_at: new Date(clock.now()).toISOString(),
      row_count: rows,
      query: { since: '2020-12-06T00:00:00.000Z', probe_cc: ['KZ'], received_before: new Date(clock.now()).toISOString() },
      collector: { software_name: 'steppe-collector', signature_algorithm: 'ed25519', public_key: Buffer.from(keys.publicKey).toString('base64') },
      schema: { steppe_jsonl_schema_version: 1, csv_columns_version: 1, ooni_data_format_version: '0.2.0' },
      time_range: { first_measurement: new Date(SUMMIT_MS).toISOString() },
    });
    expect(Object.values(m.verdict_counts).reduce((a, b) => a + b, 0)).toBe(rows);
    for (const f of m.files) {
      const bytes = readFileSync(join(snap.dir, f.name));
      expect(f.bytes).toBe(bytes.length);
      expect(f.rows).toBe(rows);
      const lines = gunzipSync(bytes).toString('utf8').trimEnd().split(/\r?\n/);
      expect(lines).toHaveLength(f.format === 'csv' ? rows + 1 : rows);
    }
    expect(readFileSync(join(snap.dir, 'manifest.json'))).toEqual(Buffer.from(snap.manifestBytes));
    // The JSON Lines file's seal: the export's id and the Merkle root over its lines, as its last line's seal says.
    const jsonl = m.files.find((f) => f.format === 'jsonl');
    expect(jsonl?.export_id).toMatch(/^[0-9a-f]{32}$/);
    expect(jsonl?.export_root).toMatch(/^[0-9a-f]{64}$/);
    expect(m.files.filter((f) => f.export_id !== undefined)).toHaveLength(1);
  });

  it('refuses to write into a non-empty directory', async () => {
    const dir = join(work, 'occupied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'x'), 'x');
    await expect(writeSnapshot({ source: t.store, query: parseExportQuery(new URLSearchParams()), dir, keys, clock })).rejects.toThrow(/not an empty directory/);
  });
});

describe('verifySnapshot', () => {
  it('accepts the snapshot with the collector key given, or the one the manifest names, and checks every proof', async () => {
    const given = await verifySnapshot(snap.dir, { publicKey: keys.publicKey, measurements: true });
    expect(given).toMatchObject({ ok: true, problems: [], signatureValid: true, keySource: 'given' });
    expect(given.measurements).toMatchObject({ verified: rows, unsigned: 0, failures: [], seals: { sealed: rows, completeness: 'checked', keySource: 'given', problems: [] } });
    expect(await verifySnapshot(snap.dir)).toMatchObject({ ok: true, keySource: 'manifest' });
  });

  const files = ['measurements.jsonl.gz', 'measurements.csv.gz', 'measurements.ooni.jsonl.gz'];
  it.each(files)('fails when one byte of %s changes', async (name) => {
    for (const [where, at] of [['first', () => 0], ['middle', (n: number) => Math.floor(n / 2)], ['last', (n: number) => n - 1]] as const) {
      const dir = copy(`${name}-${where}`);
      flipByte(join(dir, name), at);
      const result = await verifySnapshot(dir, { publicKey: keys.publicKey });
      expect(result.ok, `${name} ${where}`).toBe(false);
      expect(result.signatureValid).toBe(true);
      expect(result.problems.join('\n')).toContain(`${name}: SHA-256`);
    }
  });

  it('fails when one byte of the manifest changes, even one that keeps it valid JSON', async () => {
    const dir = copy('manifest-byte');
    const text = readFileSync(join(dir, 'manifest.json'), 'utf8');
    writeFileSync(join(dir, 'manifest.json'), text.replace(`"row_count": ${rows}`, `"row_count": ${rows + 1}`));
    const result = await verifySnapshot(dir, { publicKey: keys.publicKey });
    expect(result.ok).toBe(false);
    expect(result.signatureValid).toBe(false);
    const dir2 = copy('manifest-flip');
    flipByte(join(dir2, 'manifest.json'), (n) => n - 2);
    expect((await verifySnapshot(dir2)).ok).toBe(false);
  });

  it('fails on a changed signature, a different key, a missing file', async () => {
    const sig = copy('sig');
    const s = Buffer.from(readFileSync(join(sig, 'manifest.sig'), 'utf8').trim(), 'base64');
    s[10] = (s[10] ?? 0) ^ 0x80;
    writeFileSync(join(sig, 'manifest.sig'), s.toString('base64'));
    expect((await verifySnapshot(sig)).signatureValid).toBe(false);

    const other = await verifySnapshot(snap.dir, { publicKey: generateSigningKeyPair().publicKey });
    expect(other.ok).toBe(false);
    expect(other.problems.join('\n')).toMatch(/not the key given/);

    const missing = copy('missing');
    rmSync(join(missing, 'measurements.csv.gz'));
    expect((await verifySnapshot(missing)).problems).toContain('measurements.csv.gz: missing');
    rmSync(join(missing, 'manifest.sig'));
    expect((await verifySnapshot(missing)).problems).toEqual([expect.stringMatching(/manifest.sig is missing/)]);
  });

  it('notes files the manifest does not cover without failing', async () => {
    const dir = copy('extra');
    writeFileSync(join(dir, 'README.txt'), 'hello');
    expect(await verifySnapshot(dir)).toMatchObject({ ok: true, unlisted: ['README.txt'] });
  });

  it('checks the JSON Lines seal against the manifest\'s export_id and export_root', async () => {
    // The collector itself re-signing a manifest that names another root: the lines' seals disagree.
    const dir = copy('other-root');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SnapshotManifest;
    const files = manifest.files.map((f) => (f.format === 'jsonl' ? { ...f, export_root: '0'.repeat(64) } : f));
    const bytes = serializeManifest({ ...manifest, files });
    writeFileSync(join(dir, 'manifest.json'), bytes);
    writeFileSync(join(dir, 'manifest.sig'), signManifest(bytes, keys));
    expect((await verifySnapshot(dir, { publicKey: keys.publicKey })).ok).toBe(true);
    const checked = await verifySnapshot(dir, { publicKey: keys.publicKey, measurements: true });
    expect(checked.ok).toBe(false);
    expect(checked.problems).toContain("measurements.jsonl.gz: the root over the lines differs from the manifest's export_root");
  });

  it('fails when a measurement inside the signed file was altered and the file re-listed', async () => {
    // Someone with the data but not the collector key edits a line and
    // rewrites the manifest: the signature check catches the manifest.
    const dir = copy('resigned');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { name: string; sha256: string }[] };
    const file = manifest.files[0];
    if (file !== undefined) file.sha256 = '0'.repeat(64);
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    expect((await verifySnapshot(dir)).signatureValid).toBe(false);
  });
});

describe('the collector key', () => {
  it('is created 0600 on first use and read back after', async () => {
    const path = join(work, 'keys', 'collector-key.pem');
    const first = loadOrCreateCollectorKey(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = loadOrCreateCollectorKey(path);
    expect(again.created).toBe(false);
    expect(Buffer.from(again.keys.publicKey)).toEqual(Buffer.from(first.keys.publicKey));
    expect(again.looseMode).toBe(false);
  });

  it('is accepted on the command line as base64, PEM, the API document, or a file of those', async () => {
    const doc = collectorKeyDocument(keys.publicKey);
    expect(doc.fingerprint).toMatch(/^SHA256:/);
    for (const form of [doc.public_key, doc.pem, JSON.stringify(doc)]) expect(Buffer.from(parsePublicKeyArgument(form))).toEqual(Buffer.from(keys.publicKey));
    const file = join(work, 'pub.pem');
    writeFileSync(file, doc.pem);
    expect(Buffer.from(parsePublicKeyArgument(file))).toEqual(Buffer.from(keys.publicKey));
    expect(() => parsePublicKeyArgument('not-a-key')).toThrow(/expected a file, PEM, or base64/);
  });
});

function captureIO(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable => new Writable({ write(chunk: Buffer, _e, cb) { append(chunk.toString()); cb(); } });
  return {
    io: { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdin: process.stdin, env: {}, signal: new AbortController().signal },
    out: () => out,
    err: () => err,
  };
}

describe('steppe-collector snapshot and verify', () => {
  it('writes a snapshot from the database and verifies it; a tampered copy exits 1 with STEPPE_ERR_SNAPSHOT_INVALID', async () => {
    const db = engine.specOf(t.store);
    const out = join(work, 'cli-snapshot');
    const w = captureIO();
    // The key beside a database file by default; named, as a PostgreSQL database needs.
    const key = engine.name === 'sqlite' ? join(dirname(db), 'collector-key.pem') : join(t.dir, 'collector-key.pem');
    expect(await main(['snapshot', '--db', db, '--out', out, '--probe-asn', 'AS9198', '--verdict', 'tls,accessible', '--until', '2020-12-07', ...(engine.name === 'sqlite' ? [] : ['--key', key])], w.io)).toBe(0);
    expect(w.err()).toContain('created the collector signing key');
    expect(existsSync(key)).toBe(true);
    expect(w.out()).toMatch(/snapshot \d{8}T\d{6}Z-[0-9a-f]{12}: 5 measurements/);
    const publicKey = /--public-key (\S+)/.exec(w.out())?.[1] ?? '';

    const ok = captureIO();
    expect(await main(['verify', out, '--public-key', publicKey, '--measurements'], ok.io)).toBe(0);
    expect(ok.out()).toContain('signature: valid');
    expect(ok.out()).toMatch(/probe signature .* covers the raw measurement: .*\bid, probe_id, .*observations, control, analysis, start_time\n/);
    expect(ok.out()).toContain('    5 verified; 0 imports');
    expect(ok.out()).toMatch(/collector seal, SHA256:\S+ \(the key given\), covers: probe_asn, probe_cc, probe_network_name, verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, source, received_time, report_id, ooni/);
    expect(ok.out()).toContain('order and completeness: checked: the last seal gives 5 lines');
    expect(ok.out().trimEnd().endsWith('VALID')).toBe(true);

    const jsonl = captureIO();
    expect(await main(['verify', join(out, 'measurements.jsonl.gz')], jsonl.io)).toBe(0);

    const bad = join(work, 'cli-bad');
    cpSync(out, bad, { recursive: true });
    flipByte(join(bad, 'measurements.ooni.jsonl.gz'), (n) => Math.floor(n / 3));
    const fail = captureIO();
    expect(await main(['verify', bad, '--public-key', publicKey], fail.io)).toBe(1);
    expect(fail.out()).toContain('FAIL measurements.ooni.jsonl.gz');
    expect(fail.out()).toContain('INVALID: 1 problem(s) [STEPPE_ERR_SNAPSHOT_INVALID]');
    expect(fail.err()).toContain('[STEPPE_ERR_SNAPSHOT_INVALID]');
  });

  it('exits 2 on bad options, naming them', async () => {
    const e1 = captureIO();
    expect(await main(['snapshot', '--db', engine.specOf(t.store), '--out', join(work, 'x'), '--verdict', 'censored', '--key', join(t.dir, 'k.pem')], e1.io)).toBe(2);
    expect(e1.err()).toContain('option --verdict: expected one of');
    const e2 = captureIO();
    expect(await main(['snapshot', '--out', join(work, 'y')], e2.io)).toBe(2);
    expect(e2.err()).toContain('option --db is required');
    const e3 = captureIO();
    expect(await main(['verify', work, '--public-key', 'nope'], e3.io)).toBe(2);
    expect(e3.err()).toContain('option --public-key');
  });
});
});
