import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliIO, ManualClock, defaultVerdictReference, idToString } from '@steppe/shared';
import { main } from '../../src/cli/main.js';
import { importOoniFile } from '../../src/ooni/importer.js';
import { tempStore } from '../export/helpers.js';
import { describeEngines } from '../store/engines.js';
import { toArray } from '../store/fixtures.js';

function captureIO(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void): Writable => new Writable({ write(chunk: Buffer, _e, cb) { append(chunk.toString()); cb(); } });
  const io: CliIO = {
    stdout: sink((s) => { out += s; }),
    stderr: sink((s) => { err += s; }),
    stdin: process.stdin,
    env: {},
    signal: new AbortController().signal,
  };
  return { io, out: () => out, err: () => err };
}

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const reference = defaultVerdictReference();
const clock = new ManualClock(Date.UTC(2024, 0, 10));

describeEngines('ooni-import', (engine) => {
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function open(): Promise<Awaited<ReturnType<typeof tempStore>>> {
  const t = await tempStore(() => engine.open());
  cleanup = t.close;
  return t;
}

describe('importOoniFile', () => {
  it('imports every version, reports malformed and foreign lines by number, and tabulates OONI against Steppe', async () => {
    const { store } = await open();
    const s01 = await importOoniFile(fixture('web_connectivity-0.1.jsonl'), { store, reference, clock });
    expect(s01).toMatchObject({ lines: 4, imported: 2, duplicates: 0, skipped: 1 });
    expect(s01.problems).toEqual([{ line: 4, reason: expect.stringMatching(/^not valid JSON/) as unknown as string }]);
    expect(s01.testVersions).toEqual({ '0.1.0': 2 });

    const s02 = await importOoniFile(fixture('web_connectivity-0.2.jsonl'), { store, reference, clock });
    expect(s02).toMatchObject({ imported: 2, skipped: 1, skippedByReason: { 'not web_connectivity': 1 } });
    expect(s02.problems[0]).toEqual({ line: 3, reason: 'test_name "telegram" is not web_connectivity' });
    expect(s02.agreement).toEqual({ 'tcp_ip': { tcp_ip: 1 }, 'http-diff': { down: 1 } });

    const s04 = await importOoniFile(fixture('web_connectivity-0.4.jsonl'), { store, reference, clock });
    expect(s04).toMatchObject({ imported: 2, skipped: 1 });
    expect(s04.problems[0]?.line).toBe(3);
    const s05 = await importOoniFile(fixture('web_connectivity-0.5.jsonl'), { store, reference, clock });
    expect(s05).toMatchObject({ imported: 4, skipped: 0 });
    expect(s05.agreement).toEqual({ dns: { dns: 2 }, null: { undetermined: 1 }, false: { accessible: 1 } });

    // Stored with OONI's own analysis beside Steppe's verdict, OONI's network fields, source 'ooni'.
    const rows = (await toArray(store.iterateMeasurements({ sources: ['ooni'] }, { order: 'asc' })));
    expect(rows).toHaveLength(10);
    const byInput = new Map(rows.map((r) => [r.input, r]));
    expect(byInput.get('http://www.kazbio.info/')).toMatchObject({ verdict: 'down', anomaly: false, asn: 9198, cc: 'KZ', source: 'ooni', ooni: { blocking: 'http-diff', accessible: false } });
    expect(byInput.get('https://www.instagram.com/')).toMatchObject({ verdict: 'dns', blockingType: 'dns_injection', confirmed: true, asn: 48503, ooni: { blocking: 'dns', accessible: false } });
    expect(byInput.get('https://www.cars.com/')).toMatchObject({ verdict: 'accessible', ooni: { blocking: 'false', accessible: true } });
    expect(byInput.get('https://ct.kz/')).toMatchObject({ verdict: '', ooni: { blocking: null, accessible: null } });
    expect(byInput.get('http://www.adilsoz.kz/')?.reportId).toBe('20180312T081355Z_AS9198_q1WJxkTfmQs1bsXnmR0OPdYoRCBEGGVthkzwHs1n1MhI9IpTjB');

    // The OONI record is kept beside its conversion; no proof (no probe signature).
    const one = await store.getMeasurement(byInput.get('https://www.youtube.com/')?.id ?? new Uint8Array());
    expect(one?.proof).toBeNull();
    expect(JSON.parse(Buffer.from(one?.original ?? []).toString('utf8'))).toMatchObject({ test_version: '0.4.0', input: 'https://www.youtube.com/' });
  });

  it('dedupes a second import of the same records, plain or gzip', async () => {
    const { store } = await open();
    const first = await importOoniFile(fixture('web_connectivity-0.4.jsonl'), { store, reference, clock });
    expect(first.imported).toBe(2);
    const again = await importOoniFile(fixture('web_connectivity-0.4.jsonl.gz'), { store, reference, clock });
    expect(again).toMatchObject({ lines: 3, imported: 0, duplicates: 2, skipped: 1 });
    expect(await store.countMeasurements({})).toBe(2);
    const ids = (await toArray(store.iterateRecords({}))).map((r) => idToString(r.id));
    expect(new Set(ids).size).toBe(2);
  });

  it('commits in batches and stops between lines when asked', async () => {
    const { store } = await open();
    const controller = new AbortController();
    controller.abort();
    const stopped = await importOoniFile(fixture('web_connectivity-0.5.jsonl'), { store, reference, clock, signal: controller.signal });
    expect(stopped).toMatchObject({ interrupted: true, imported: 0 });
    const small = await importOoniFile(fixture('web_connectivity-0.5.jsonl'), { store, reference, clock, batchSize: 1 });
    expect(small.imported).toBe(4);
  });

  it('fails clearly on a file it cannot read', async () => {
    const { store } = await open();
    await expect(importOoniFile('/nonexistent/ooni.jsonl', { store, reference, clock })).rejects.toMatchObject({ code: 'STEPPE_ERR_IMPORT' });
  });
});


describe('steppe-collector import-ooni', () => {
  let db = '';
  beforeEach(async () => {
    db = await engine.newSpec();
  });

  it('prints the summary: counts, skipped lines with numbers, agreement table', async () => {
    const { io, out } = captureIO();
    const code = await main(['import-ooni', fixture('web_connectivity-0.2.jsonl'), fixture('web_connectivity-0.1.jsonl'), '--db', db], io);
    expect(code).toBe(0);
    const text = out();
    expect(text).toContain('web_connectivity-0.2.jsonl: 3 lines, 2 imported, 0 duplicates (already stored), 1 skipped');
    expect(text).toContain('line 3: test_name "telegram" is not web_connectivity');
    expect(text).toContain('line 4: not valid JSON');
    expect(text).toMatch(/agreement \(rows: OONI blocking, columns: Steppe verdict\):/);
    // Columns are Steppe's verdicts (down, tcp_ip): OONI's http-diff was, for Steppe, the site being down.
    expect(text).toMatch(/OONI blocking \\ Steppe\s+down\s+tcp_ip\n\s+http-diff\s+1\s+0\s*\n\s+tcp_ip\s+0\s+1/);
  });

  it('--disagreements FILE writes every measurement where OONI and Steppe differ, with both verdicts and the evidence', async () => {
    const { dir } = await open();
    const out = join(dir, 'disagreements.jsonl');
    const files = ['web_connectivity-0.2.jsonl', 'web_connectivity-challenges.jsonl', 'web_connectivity-differences.jsonl', 'web_connectivity-0.5-redirect-failures.jsonl']
      .map((f) => fixture(f));
    const { io, out: stdout } = captureIO();
    expect(await main(['import-ooni', ...files, '--db', `${dir}/c.db`, '--disagreements', out], io)).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // Where the two agree in OONI's terms (a blockpage is OONI's http-diff, tls its http-failure), nothing is written.
    expect(lines.map((l) => [l['input'], l['known_difference']])).toEqual([
      ['http://www.kazbio.info/', 'control_failed_too'],
      ['http://www.cloudflare-cache.com/', 'server_challenge'],
      ['https://www.bjp.org/', 'server_challenge'],
      ['http://www.respublika-kaz.info/', 'isp_nxdomain_hijacking'],
      ['https://bit.ly/32447', 'failed_step_named'],
    ]);
    expect(lines[1]).toMatchObject({
      file: fixture('web_connectivity-challenges.jsonl'),
      line: 1,
      test_version: '0.5.28',
      report_id: '20240709T114000Z_webconnectivity_KZ_9198_n1_ChallengeHttp00001',
      ooni: { blocking: 'http-diff', accessible: false },
      steppe: { verdict: 'accessible', blocking_type: 'server_challenge', anomaly: false, fingerprint_id: 'challenge.cloudflare_chl_opt' },
    });
    expect(((lines[1]?.['steppe'] as { evidence: string[] }).evidence).join('\n')).toContain('CDN challenge fingerprint');
    expect(lines[4]).toMatchObject({ line: 2, ooni: { blocking: 'http-failure' }, steppe: { verdict: 'tcp_ip', failure: 'connection_refused', failed_step: 'tcp_connect' } });
    expect(stdout()).toContain('disagreements with OONI (in OONI\'s terms): 2 (known differences: server_challenge 2)');
    expect(stdout()).toContain('disagreements with OONI (in OONI\'s terms): 1 (known differences: failed_step_named 1)');
  });

  it('exits 2 when the disagreements file cannot be written', async () => {
    const { dir } = await open();
    const bad = captureIO();
    expect(await main(['import-ooni', fixture('web_connectivity-0.2.jsonl'), '--db', `${dir}/c.db`, '--disagreements', join(dir, 'no', 'such', 'dir.jsonl')], bad.io)).toBe(2);
    expect(bad.err()).toContain('--disagreements');
  });

  it('exits 2 on bad options and 1 when nothing was usable', async () => {
    const { dir } = await open();
    const bad = captureIO();
    expect(await main(['import-ooni', fixture('web_connectivity-0.2.jsonl')], bad.io)).toBe(2);
    expect(bad.err()).toContain('--db');
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, '{"test_name": "web_connectivity", "input":\n[]\n');
    const none = captureIO();
    expect(await main(['import-ooni', junk, '--db', db], none.io)).toBe(1);
    expect(none.out()).toContain('line 2: the line is not a JSON object');
    const first = captureIO();
    expect(await main(['import-ooni', fixture('web_connectivity-0.2.jsonl'), '--db', db, '--json'], first.io)).toBe(0);
    const again = captureIO();
    expect(await main(['import-ooni', fixture('web_connectivity-0.2.jsonl'), '--db', db, '--json'], again.io)).toBe(0);
    expect(JSON.parse(again.out())).toMatchObject({ [fixture('web_connectivity-0.2.jsonl')]: { imported: 0, duplicates: 2 } });
  });
});
});
