import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliIO, ManualClock, defaultVerdictReference, encodeMeasurement, generateSigningKeyPair, wire } from '@steppe/shared';
import { main } from '../../src/cli/main.js';
import { exportLines } from '../../src/export/formats.js';
import { registerExportRoutes } from '../../src/export/routes.js';
import { verifyJsonlProofs } from '../../src/export/verify-proofs.js';
import { type Listening, listenRouter } from '../../src/http/listen.js';
import { Router } from '../../src/http/router.js';
import { importOoniFile } from '../../src/ooni/importer.js';
import { toArray } from '../store/fixtures.js';
import { seedSigned, tempStore } from './helpers.js';

// The collector's seal over what it derives (verdict, network, received
// time, ...): docs/design/dd-006-collector-seals.md. Exports come from the
// HTTP route, as a researcher downloads them, and are checked with
// `steppe-collector verify`.

type Obj = Record<string, unknown>;

let t: Awaited<ReturnType<typeof tempStore>>;
let listening: Listening;
let rows = 0;
const work = mkdtempSync(join(tmpdir(), 'steppe-seal-'));
const keys = generateSigningKeyPair();
const clock = new ManualClock(Date.UTC(2024, 0, 2));

beforeAll(async () => {
  t = await tempStore();
  rows = await seedSigned(t.store, 6);
  const fixture = fileURLToPath(new URL('../ooni/fixtures/web_connectivity-0.2.jsonl', import.meta.url));
  rows += (await importOoniFile(fixture, { store: t.store, reference: defaultVerdictReference(), clock: new ManualClock(Date.UTC(2024, 0, 1)) })).imported;
  const router = new Router();
  registerExportRoutes(router, { store: t.store, clock, collectorKey: keys });
  listening = await listenRouter(router, '127.0.0.1', 0);
});
afterAll(async () => {
  await listening.close();
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

async function download(query: string): Promise<{ lines: string[]; exportId: string }> {
  const res = await fetch(`${listening.url}/api/v1/exports/measurements.jsonl${query}`);
  expect(res.status).toBe(200);
  return { lines: (await res.text()).trimEnd().split('\n'), exportId: res.headers.get('x-steppe-export-id') ?? '' };
}

let files = 0;
function save(lines: readonly string[]): string {
  const path = join(work, `export-${(files += 1)}.jsonl`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

function edit(lines: readonly string[], at: number, change: (r: Obj) => void): string[] {
  return lines.map((l, i) => {
    if (i !== at) return l;
    const r = JSON.parse(l) as Obj;
    change(r);
    return JSON.stringify(r);
  });
}

async function verify(...args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
  const io: CliIO = { stdout: sink, stderr: new Writable({ write(_c, _e, cb) { cb(); } }), stdin: process.stdin, env: {}, signal: new AbortController().signal };
  const code = await main(['verify', ...args], io);
  return { code, out };
}

const key = (): string => Buffer.from(keys.publicKey).toString('base64');

describe('the collector seal over derived fields', () => {
  it('verifies a clean export, compact or full, and says which fields each signature covers', async () => {
    for (const query of ['', '?proofs=full']) {
      const { lines, exportId } = await download(query);
      expect(lines).toHaveLength(rows);
      expect(exportId).toMatch(/^[0-9a-f]{32}$/);
      const r = await verify(save(lines), '--public-key', key());
      expect(r.code, r.out).toBe(0);
      expect(r.out).toMatch(/probe signature \(each probe's key\) covers the raw measurement: .*\bid, probe_id, .*observations, control, analysis/);
      expect(r.out).toMatch(/collector seal, SHA256:\S+ \(the key given\), covers: probe_asn, probe_cc, probe_network_name, verdict, blocking_type, anomaly, confirmed, failure, fingerprint_id, source, received_time, report_id, ooni, and each measurement's bytes/);
      expect(r.out).toContain(`    ${rows} verified, export ${exportId}`);
      expect(r.out).toContain(`order and completeness: checked: the last seal gives ${rows} lines`);
      expect(r.out.trimEnd().endsWith('\nVALID')).toBe(true);
    }
  });

  it('fails an edited verdict or probe_asn in a full export, naming the line and the field (the issue\'s reproduction)', async () => {
    const { lines } = await download('?proofs=full');
    const at = lines.findIndex((l) => (JSON.parse(l) as Obj)['verdict'] === 'tls');
    const id = String((JSON.parse(lines[at] ?? '{}') as Obj)['id']);
    const verdict = await verify(save(edit(lines, at, (r) => { r['verdict'] = 'blockpage'; })));
    expect(verdict.code).toBe(1);
    expect(verdict.out).toContain(`FAIL line ${at + 1} (${id}): field "verdict" is "blockpage", the collector signed "tls"`);
    expect(verdict.out).toContain('INVALID');
    const asn = await verify(save(edit(lines, at, (r) => { r['probe_asn'] = 12345; })));
    expect(asn.code).toBe(1);
    expect(asn.out).toMatch(new RegExp(`FAIL line ${at + 1} \\(${id}\\): field "probe_asn" is 12345, the collector signed (9198|21299)`));
  });

  it('fails every derived field edited, in a compact export too', async () => {
    const { lines } = await download('');
    const at = lines.findIndex((l) => (JSON.parse(l) as Obj)['source'] === 'ooni');
    const changes: [string, (r: Obj) => void][] = [
      ['probe_cc', (r) => { r['probe_cc'] = 'RU'; }],
      ['probe_network_name', (r) => { r['probe_network_name'] = 'Other'; }],
      ['anomaly', (r) => { r['anomaly'] = !(r['anomaly'] as boolean); }],
      ['confirmed', (r) => { r['confirmed'] = true; }],
      ['blocking_type', (r) => { r['blocking_type'] = 'http_blockpage'; }],
      ['failure', (r) => { r['failure'] = 'connection_reset'; }],
      ['fingerprint_id', (r) => { r['fingerprint_id'] = 'ooni.kz_1'; }],
      ['source', (r) => { r['source'] = 'steppe'; }],
      ['received_time', (r) => { r['received_time'] = '2020-12-06T05:00:00.000Z'; }],
      ['report_id', (r) => { r['report_id'] = 'x'; }],
      ['ooni', (r) => { r['ooni'] = { blocking: 'dns', accessible: false }; }],
    ];
    for (const [field, change] of changes) {
      const result = await verifyJsonlProofs(save(edit(lines, at, change)));
      expect(result.failures.map((f) => [f.line, f.reason]), field).toEqual([[at + 1, expect.stringContaining(`field "${field}" is `)]]);
    }
  });

  it('fails a record re-encoded without the collector\'s key: the seal no longer covers it', async () => {
    const forge = (r: Obj): void => {
      const cp = r['collector_proof'] as Obj;
      const record = wire.CollectorRecord.decode(Buffer.from(String(cp['record']), 'base64'));
      record.verdict = 'blockpage';
      cp['record'] = Buffer.from(wire.CollectorRecord.encode(record).finish()).toString('base64');
      r['verdict'] = 'blockpage';
    };
    const full = (await download('?proofs=full')).lines;
    const f = await verifyJsonlProofs(save(edit(full, 2, forge)));
    expect(f.failures.map((x) => [x.line, x.reason])).toEqual([[3, expect.stringContaining("the collector's seal (page 0) does not cover this line's record")]]);
    expect(f.seals.completeness).toBe('failed');
    const compact = (await download('')).lines;
    const c = await verifyJsonlProofs(save(edit(compact, 2, forge)));
    expect(c.failures).toContainEqual(expect.objectContaining({ line: 1, lastLine: rows, reason: expect.stringContaining("does not match these lines' records") }));
  });

  it('covers an import\'s bytes, which no probe signed', async () => {
    const { lines } = await download('');
    const at = lines.findIndex((l) => (JSON.parse(l) as Obj)['source'] === 'ooni');
    // Other bytes, consistent with the line's fields: only the collector's record tells.
    const swapped = edit(lines, at, (r) => {
      const m = wire.Measurement.decode(Buffer.from(String(r['raw']), 'base64'));
      m.runtimeMs += 1;
      r['raw'] = Buffer.from(encodeMeasurement(m)).toString('base64');
      r['runtime_ms'] = m.runtimeMs;
    });
    const result = await verifyJsonlProofs(save(swapped));
    expect(result.failures.map((f) => [f.line, f.reason])).toEqual([[at + 1, "the collector's record is of other measurement bytes than the line's"]]);
  });

  it('detects a line deleted, lines reordered, a line added (a copy, or from another export), in both modes', async () => {
    for (const query of ['', '?proofs=full']) {
      const { lines } = await download(query);
      const other = (await download(query)).lines; // same rows, another export id
      const cases: [string, string[]][] = [
        ['deleted', lines.filter((_, i) => i !== 4)],
        ['reordered', lines.map((l, i) => (i === 3 ? (lines[5] ?? l) : i === 5 ? (lines[3] ?? l) : l))],
        ['duplicated', [...lines.slice(0, 6), lines[2] ?? '', ...lines.slice(6)]],
        ['from another export', [...lines.slice(0, 6), other[6] ?? '', ...lines.slice(6)]],
      ];
      for (const [name, changed] of cases) {
        const r = await verify(save(changed));
        expect(r.code, `${name} ${query}`).toBe(1);
        expect(r.out, `${name} ${query}`).toContain('INVALID');
        expect(r.out, `${name} ${query}`).toMatch(/FAIL .*(removed|added|moved|another export|not those the collector sealed)/);
      }
    }
  });

  it('detects whole pages removed or swapped', async () => {
    const seal = { keys, createdMs: clock.now(), pageLines: 4 };
    const lines = (await toArray(exportLines(t.store, {}, 'jsonl', undefined, { proofs: 'full', seal }))).map((l) => l.trimEnd());
    expect(new Set(lines.map((l) => ((JSON.parse(l) as Obj)['collector_proof'] as Obj)['seal'])).size).toBe(Math.ceil(rows / 4));
    const clean = save(lines);
    return (async () => {
      expect((await verifyJsonlProofs(clean)).seals).toMatchObject({ completeness: 'checked', sealed: rows, problems: [] });
      const removed = await verifyJsonlProofs(save([...lines.slice(0, 4), ...lines.slice(8)]));
      expect(removed.failures.map((f) => f.reason)).toContain('sealed as line 9 of the export, after a line sealed as line 4: lines were removed, added or moved');
      expect(removed.seals.problems).toContain(`the export has ${rows} lines, this file ${rows - 4}: lines were removed or added`);
      const swapped = await verifyJsonlProofs(save([...lines.slice(4, 8), ...lines.slice(0, 4), ...lines.slice(8)]));
      expect(swapped.failures[0]?.reason).toBe('the file starts at line 5 of the export: earlier lines are missing');
      expect(swapped.seals.completeness).toBe('failed');
    })();
  });

  it('says plainly when removed or moved lines cannot be detected: a file cut before its last seal', async () => {
    // This export is one page: every line of a full export carries its last seal, so a cut is detected.
    const { lines } = await download('?proofs=full');
    const cut = await verify(save(lines.slice(0, 5)));
    expect(cut.code).toBe(1);
    expect(cut.out).toContain(`FAIL the export has ${rows} lines, this file 5: lines were removed or added`);
    // Pages of 4 lines: the first five lines hold no last seal.
    const paged = (await toArray(exportLines(t.store, {}, 'jsonl', undefined, { proofs: 'full', seal: { keys, createdMs: clock.now(), pageLines: 4 } }))).map((l) => l.trimEnd());
    const head = save(paged.slice(0, 5));
    const strict = await verify(head);
    expect(strict.code).toBe(1);
    expect(strict.out).toContain('order and completeness: CANNOT BE DETECTED: the file holds no last seal (row count and root)');
    expect(strict.out).toContain('FAIL the file holds no last seal (row count and root of the export): it was cut or is an extract, and removed, added or moved lines cannot be detected');
    // An extract of a full export: each line verifies on its own, and the output says what is not checked.
    const partial = await verify(head, '--partial');
    expect(partial.code, partial.out).toBe(0);
    expect(partial.out).toContain('    5 verified, export');
    expect(partial.out).toContain('order and completeness: NOT CHECKED (--partial): lines removed, added or moved cannot be detected in an extract');
    expect(partial.out.trimEnd().endsWith('VALID (each line; not that the export is whole)')).toBe(true);
    // Even with --partial an edited line fails.
    expect((await verify(save(edit(paged.slice(0, 5), 1, (r) => { r['verdict'] = 'blockpage'; })), '--partial')).code).toBe(1);
  });

  it('fails lines without a seal, a seal by another key, and fields no signature covers', async () => {
    const { lines } = await download('');
    const unsealed = await verifyJsonlProofs(save(edit(lines, 0, (r) => { r['collector_proof'] = null; })));
    expect(unsealed.failures[0]).toMatchObject({ line: 1, reason: expect.stringContaining('no collector seal: probe_asn, probe_cc, probe_network_name, verdict') });
    const other = generateSigningKeyPair();
    const wrongKey = await verify(save(lines), '--public-key', Buffer.from(other.publicKey).toString('base64'));
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.out).toMatch(/sealed with key SHA256:\S+, not SHA256:\S+ \(the key given\)/);
    const extra = await verifyJsonlProofs(save(edit(lines, 1, (r) => { r['censored'] = true; })));
    expect(extra.failures.map((f) => f.reason)).toEqual(['field "censored" is covered by no signature']);
  });
});
