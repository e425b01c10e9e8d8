import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, defaultVerdictReference, generateSigningKeyPair, idToString, verifyMeasurementProof } from '@steppe/shared';
import { CSV_COLUMNS, csvField, csvHeader } from '../../src/export/csv.js';
import { type ExportSource, exportRows } from '../../src/export/export-row.js';
import { exportLines, newCounter } from '../../src/export/formats.js';
import { verifyJsonlProofs } from '../../src/export/verify-proofs.js';
import { importOoniFile } from '../../src/ooni/importer.js';
import type { MeasurementWithRaw } from '../../src/store/store.js';
import { seedSigned, tempStore } from './helpers.js';
import { describeEngines } from '../store/engines.js';
import { toArray } from '../store/fixtures.js';

describeEngines('exports', (engine) => {
let t: Awaited<ReturnType<typeof tempStore>>;
let signed = 0;
const work = mkdtempSync(join(tmpdir(), 'steppe-exports-'));

beforeAll(async () => {
  t = await tempStore(() => engine.open());
  signed = await seedSigned(t.store, 6);
  const fixture = fileURLToPath(new URL('../ooni/fixtures/web_connectivity-0.2.jsonl', import.meta.url));
  await importOoniFile(fixture, { store: t.store, reference: defaultVerdictReference(), clock: new ManualClock(Date.UTC(2024, 0, 1)) });
});
afterAll(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

type Obj = Record<string, unknown>;
/** Sealed with a collector key, as the routes and snapshots do. */
const seal = { keys: generateSigningKeyPair(), createdMs: Date.UTC(2024, 0, 2) };

describe('JSON Lines in Steppe\'s schema', () => {
  it('carries every measurement with the collector\'s network fields, current verdict and proof', async () => {
    const counter = newCounter();
    const lines = (await toArray(exportLines(t.store, {}, 'jsonl', counter, { proofs: 'full' })));
    expect(lines).toHaveLength(signed + 2);
    expect(counter.rows).toBe(signed + 2);
    const rows = lines.map((l) => JSON.parse(l) as Obj);
    // Ascending start time.
    const starts = rows.map((r) => Date.parse(String(r['start_time'])));
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
    const steppe = rows.filter((r) => r['source'] === 'steppe');
    expect(steppe).toHaveLength(signed);
    for (const r of steppe) {
      expect(r['schema_version']).toBe(1);
      // The probe claimed AS64512/XX; the collector's derived values are exported.
      expect([9198, 21299]).toContain(r['probe_asn']);
      expect(['JSC Kazakhtelecom', 'Kar-Tel LLC']).toContain(r['probe_network_name']);
      expect(r['probe_cc']).toBe('KZ');
      const proof = r['proof'] as Obj;
      const b = (k: string): Uint8Array => new Uint8Array(Buffer.from(String(proof[k]), 'base64'));
      expect(verifyMeasurementProof(b('measurement'), b('batch_header'), b('signature'), b('public_key'))).toBe(true);
      expect(r['raw']).toBeNull();
    }
    const imported = rows.filter((r) => r['source'] === 'ooni');
    expect(imported.map((r) => [r['verdict'], (r['ooni'] as Obj)['blocking']])).toEqual([['tcp_ip', 'tcp_ip'], ['down', 'http-diff']]);
    expect(imported[0]?.['proof']).toBeNull();
    expect(typeof imported[0]?.['raw']).toBe('string');
    expect(imported[0]?.['report_id']).toBe('20201206T101501Z_webconnectivity_KZ_9198_n1_Rb6wNkz1qMFJyLOp');
  });

  it('filters like the API does', async () => {
    const lines = (await toArray(exportLines(t.store, { verdicts: ['tls'], probeAsns: [9198] }, 'jsonl'))).map((l) => JSON.parse(l) as Obj);
    expect(lines.length).toBeGreaterThan(0);
    for (const r of lines) expect([r['verdict'], r['probe_asn']]).toEqual(['tls', 9198]);
  });

  it('writes each batch header once in compact mode (the default), and a compact file verifies as a whole', async () => {
    const compact = (await toArray(exportLines(t.store, {}, 'jsonl', undefined, { seal })));
    const full = (await toArray(exportLines(t.store, {}, 'jsonl', undefined, { proofs: 'full', seal })));
    const proofs = compact.map((l) => (JSON.parse(l) as Obj)['proof'] as Obj | null).filter((p): p is Obj => p !== null);
    const withHeader = proofs.filter((p) => typeof p['batch_header'] === 'string');
    // seedSigned commits one batch per probe: two headers, each on its batch's first line.
    expect(withHeader).toHaveLength(2);
    expect(new Set(proofs.map((p) => p['batch_id'])).size).toBe(2);
    expect(compact.join('').length).toBeLessThan(full.join('').length);
    const file = join(work, 'compact.jsonl');
    writeFileSync(file, compact.join(''));
    expect(await verifyJsonlProofs(file)).toMatchObject({ verified: signed, unsigned: 2, failures: [], seals: { sealed: signed + 2, completeness: 'checked' } });
    // Cut the lines that carry the headers: the rest cannot be verified, and says why.
    const cut = join(work, 'cut.jsonl');
    writeFileSync(cut, compact.filter((l) => !l.includes('"batch_header"')).join(''));
    const result = await verifyJsonlProofs(cut, { partial: true });
    expect(result.verified).toBe(0);
    expect(result.failures[0]?.reason).toMatch(/^batch [0-9a-f]{32} is not given on an earlier line of this file$/);
  });

  it('verifies end to end: every proof and every signed field of an exported file; a tampered line fails', async () => {
    const text = (await toArray(exportLines(t.store, {}, 'jsonl', undefined, { proofs: 'full', seal }))).join('');
    const file = join(work, 'm.jsonl.gz');
    writeFileSync(file, gzipSync(text));
    expect(await verifyJsonlProofs(file)).toMatchObject({ lines: signed + 2, measurements: signed + 2, verified: signed, unsigned: 2, failures: [], moreFailures: 0, seals: { sealed: signed + 2, completeness: 'checked', problems: [] } });

    const lines = text.trimEnd().split('\n');
    const target = lines.findIndex((l) => (JSON.parse(l) as Obj)['source'] === 'steppe');
    const tamper = (edit: (r: Obj) => void): string[] => lines.map((l, i) => {
      if (i !== target) return l;
      const r = JSON.parse(l) as Obj;
      edit(r);
      return JSON.stringify(r);
    });
    const cases: [string, string[], RegExp][] = [
      ['input edited', tamper((r) => { r['input'] = 'https://www.example.org/'; }), /field "input" differs from the signed bytes/],
      ['observation edited', tamper((r) => { ((r['observations'] as Obj)['tcp_connects'] as Obj[])[0]!['failure'] = 'connection_reset'; }), /field "observations" differs/],
      ['probe analysis edited', tamper((r) => { (r['analysis'] as Obj)['verdict'] = 'accessible'; }), /field "analysis" differs/],
      ['one byte of the measurement', tamper((r) => {
        const proof = r['proof'] as Obj;
        const raw = Buffer.from(String(proof['measurement']), 'base64');
        raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
        proof['measurement'] = raw.toString('base64');
      }), /probe signature does not cover/],
      ['signature', tamper((r) => { const proof = r['proof'] as Obj; proof['signature'] = Buffer.alloc(64, 7).toString('base64'); }), /batch_id does not match the signature/],
      ['signature and batch id', tamper((r) => {
        const proof = r['proof'] as Obj;
        proof['signature'] = Buffer.alloc(64, 7).toString('base64');
        proof['batch_id'] = '07'.repeat(16);
      }), /probe signature does not verify over the batch header/],
      ['probe id', tamper((r) => { r['probe_id'] = 'p0000'; }), /field "probe_id" differs/],
    ];
    for (const [name, edited, reason] of cases) {
      const path = join(work, `${name.replace(/\W/g, '_')}.jsonl`);
      writeFileSync(path, `${edited.join('\n')}\n`);
      const result = await verifyJsonlProofs(path);
      expect(result.failures, name).toHaveLength(1);
      expect(result.failures[0]?.line, name).toBe(target + 1);
      expect(result.failures[0]?.reason, name).toMatch(reason);
    }
  });
});

describe('CSV of the queryable columns', () => {
  it('has a header row and one RFC 4180 row per measurement', async () => {
    const lines = (await toArray(exportLines(t.store, {}, 'csv')));
    expect(lines[0]).toBe(csvHeader());
    expect(lines[0]).toBe(`${CSV_COLUMNS.map((c) => c.name).join(',')}\r\n`);
    expect(lines).toHaveLength(signed + 3);
    const first = lines[1]?.split(',') ?? [];
    expect(first[CSV_COLUMNS.findIndex((c) => c.name === 'probe_cc')]).toBe('KZ');
    for (const l of lines) expect(l.endsWith('\r\n')).toBe(true);
  });

  it('quotes fields as RFC 4180 says', async () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(null)).toBe('');
    expect(csvField(false)).toBe('false');
    expect(csvField(9198)).toBe('9198');
  });
});

describe('OONI data-format JSON Lines', () => {
  it('writes one OONI measurement per line with OONI\'s base keys and Steppe\'s verdict in x_steppe', async () => {
    const rows = (await toArray(exportLines(t.store, {}, 'ooni.jsonl'))).map((l) => JSON.parse(l) as Obj);
    expect(rows).toHaveLength(signed + 2);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['measurement_start_time', 'test_start_time', 'probe_asn', 'probe_cc', 'probe_ip', 'report_id', 'input', 'test_name', 'test_version', 'software_name', 'software_version', 'data_format_version', 'annotations', 'test_runtime', 'test_keys']));
      expect(r['measurement_start_time']).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(r['probe_ip']).toBe('127.0.0.1');
      const tk = r['test_keys'] as Obj;
      expect(Object.keys(tk)).toEqual(expect.arrayContaining(['queries', 'tcp_connect', 'tls_handshakes', 'requests', 'control', 'blocking', 'accessible', 'dns_consistency', 'http_experiment_failure', 'body_length_match', 'status_code_match', 'headers_match', 'title_match', 'x_steppe']));
    }
    const blocked = rows.find((r) => (r['test_keys'] as Obj)['x_steppe'] !== undefined && ((r['test_keys'] as Obj)['x_steppe'] as Obj)['verdict'] === 'tls');
    expect((blocked?.['test_keys'] as Obj)['blocking']).toBe('http-failure');
  });
});

describe('exportRows', () => {
  it('uses the proof the iterator carries, and looks it up only when it does not', async () => {
    const real = (await toArray(t.store.iterateMeasurements({ sources: ['steppe'] }, { order: 'asc' }))).slice(0, 2);
    const first = real[0];
    if (first === undefined) throw new Error('no rows');
    const proof = (await t.store.getMeasurement(first.id))?.proof ?? null;
    let lookups = 0;
    const carrying: ExportSource = {
      iterateMeasurements: () => real.map((r: MeasurementWithRaw) => ({ ...r, proof })),
      getMeasurement: () => {
        lookups += 1;
        return { proof: null };
      },
    };
    expect((await toArray(exportRows(carrying, {}, true))).map((r) => r.proof)).toEqual([proof, proof]);
    expect(lookups).toBe(0);
    const bare: ExportSource = { iterateMeasurements: () => real, getMeasurement: (id) => t.store.getMeasurement(id) };
    const rows = (await toArray(exportRows(bare, {}, true)));
    expect(rows.map((r) => idToString(r.id))).toEqual(real.map((r) => idToString(r.id)));
    expect(rows.every((r) => r.proof !== null)).toBe(true);
  });

  it('reports a corrupt stored measurement instead of exporting garbage', async () => {
    const [row] = (await toArray(t.store.iterateMeasurements({}, { order: 'asc' })));
    if (row === undefined) throw new Error('no rows');
    const broken: ExportSource = { iterateMeasurements: () => [{ ...row, raw: new Uint8Array([0x0a, 0xff]), proof: null }] };
    await expect(toArray(exportLines(broken, {}, 'jsonl'))).rejects.toThrow(/does not decode/);
  });
});
});
