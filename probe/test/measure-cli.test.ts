import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from '@steppe/shared';
import { main } from '../src/cli/main.js';
import { makeTestPki, type TestPki } from '../../shared/test/netx/helpers/certs.js';
import { controlServer, type TestControlServer } from './experiments/helpers/control-server.js';
import { CONTROL_ADDRESS, PROBE_ADDRESS, miniLab, type MiniLab } from './experiments/helpers/mini-lab.js';
import { parseCidrList } from '@steppe/shared';

interface Captured {
  io: CliIO;
  out(): string;
  err(): string;
}

function captureIO(): Captured {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    io: { stdout, stderr, stdin: new PassThrough(), env: {}, signal: new AbortController().signal },
    out: () => out,
    err: () => err,
  };
}

let dir: string;
let pki: TestPki;
let lab: MiniLab;
let control: TestControlServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'steppe-measure-'));
  pki = makeTestPki();
  writeFileSync(join(dir, 'ca.pem'), pki.caPem);
  writeFileSync(join(dir, 'state.pem'), pki.stateRootPem);
  lab = await miniLab(pki);
  control = await controlServer({ resolver: lab.resolver, localAddress: CONTROL_ADDRESS, allowNet: parseCidrList('127.0.0.0/8'), extraCa: [pki.caPem] });
});
afterAll(async () => {
  await control.close();
  await lab.close();
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

async function measure(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureIO();
  const code = await main(['measure', ...args], c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('steppe-probe measure: argument errors exit 2 naming the argument', () => {
  // Parsing fails before anything is sent; were it not to, the only address allowed has nothing listening.
  const base = ['https://site.test/', '--allow-net', '127.0.0.250/32', '--resolver', '127.0.0.250:53'];
  it.each([
    [['--resolver', 'nope'], '--resolver'],
    [['--resolver', '127.0.0.1:99999'], '--resolver'],
    [['--third-party-resolver', '127.0.0.250:53,dns.google'], '--third-party-resolver[1]'],
    [['--allow-net', '10.0.0.0/33'], '--allow-net'],
    [['--concurrency', '0'], '--concurrency'],
    [['--timeout-ms', 'soon'], '--timeout-ms'],
    [['--local-address', 'my-host'], '--local-address'],
    [['--control', 'ftp://x'], '--control'],
    [['--control-sni', '1.2.3.4'], '--control-sni'],
    [['--lab-addresses', 'x'], '--lab-addresses'],
    [['--ca-file', '/nonexistent/ca.pem'], '--ca-file'],
    [['--interception-roots', '/nonexistent/roots.pem'], '--interception-roots'],
    [['--collector', 'http://127.0.0.1:1'], '--data-dir'],
    [['--collector', 'gopher://x', '--data-dir', '/tmp/x'], '--collector'],
    [['--upload-timeout-ms', '-5'], '--upload-timeout-ms'],
    [['--out', '/nonexistent-dir/out.jsonl'], '--out'],
    [['--bogus'], '--bogus'],
  ])('%j names %s', async (extra, name) => {
    const r = await measure([...base, ...extra]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(name);
    expect(r.out).toBe('');
  });

  it('a bad URL or no URL at all', async () => {
    const bad = await measure(['ftp://x.test/', '--allow-net', '127.0.0.250/32', '--resolver', '127.0.0.250:53']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/URL/);
    const none = await measure(['--allow-net', '127.0.0.250/32', '--resolver', '127.0.0.250:53']);
    expect(none.code).toBe(2);
    expect(none.err).toContain('--targets');
  });

  it('a CA file without a certificate, a test list without usable rows', async () => {
    writeFileSync(join(dir, 'empty.pem'), 'not a certificate\n');
    const ca = await measure([...base, '--ca-file', join(dir, 'empty.pem')]);
    expect(ca.code).toBe(2);
    expect(ca.err).toContain('--ca-file');
    writeFileSync(join(dir, 'bad.csv'), 'hello,world\n1,2\n');
    const list = await measure(['--targets', join(dir, 'bad.csv'), '--allow-net', '127.0.0.250/32', '--resolver', '127.0.0.250:53']);
    expect(list.code).toBe(2);
    expect(list.err).toContain('--targets');
  });

  it('--help documents every option of the contract', async () => {
    const r = await measure(['--help']);
    expect(r.code).toBe(0);
    for (const o of ['--targets', '--resolver', '--third-party-resolver', '--control', '--allow-net', '--concurrency', '--timeout-ms', '--ca-file', '--interception-roots', '--local-address', '--control-sni', '--lab-addresses', '--out', '--collector', '--data-dir', '--upload-timeout-ms']) {
      expect(r.out).toContain(o);
    }
  });
});

describe('steppe-probe measure against the loopback lab', () => {
  function labArgs(): string[] {
    return [
      '--resolver', `${lab.resolver.host}:${lab.resolver.port}`,
      '--control', control.url,
      '--allow-net', '127.0.0.0/8',
      '--local-address', PROBE_ADDRESS,
      '--ca-file', join(dir, 'ca.pem'),
      '--interception-roots', join(dir, 'state.pem'),
      '--lab-addresses', '127.0.0.0/8',
      '--timeout-ms', '8000',
    ];
  }

  it('prints one JSON object per URL with the verdict fields and observations; exit 0 whatever the verdicts', async () => {
    const csv = join(dir, 'kz.csv');
    writeFileSync(csv, `url,category_code,category_description,date_added,source,notes\nhttps://blocked.test:${lab.port}/,GRP,Social Networking,2020-12-05,lab,"SNI, reset"\n`);
    const r = await measure([`https://site.test:${lab.port}/`, '--targets', csv, ...labArgs()]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    const byInput = new Map(lines.map((l) => [l['input'], l]));
    const site = byInput.get(`https://site.test:${lab.port}/`);
    expect(site).toMatchObject({ verdict: 'accessible', anomaly: false, confirmed: false, failure: null, test_name: 'web_connectivity' });
    expect(site?.['observations']).toHaveProperty('tls_handshakes');
    const blocked = byInput.get(`https://blocked.test:${lab.port}/`);
    expect(blocked).toMatchObject({ verdict: 'tls', anomaly: true, failure: 'connection_reset', category_code: 'GRP', test_list: 'kz' });
    expect(String(blocked?.['test_list_version'])).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(r.out).not.toContain(PROBE_ADDRESS);
  });

  it('--out writes the JSON Lines to a file', async () => {
    const out = join(dir, 'out.jsonl');
    const r = await measure([`https://site.test:${lab.port}/`, ...labArgs(), '--out', out]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ verdict: 'accessible' });
  });

  const bin = fileURLToPath(new URL('../bin/steppe-probe.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../dist/cli/commands/measure.js', import.meta.url)));
  it.skipIf(!built)('the built CLI measures and exits 0 (npm test builds first)', async () => {
    const child = spawn(process.execPath, [bin, 'measure', `https://site.test:${lab.port}/`, ...labArgs()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out.trim())).toMatchObject({ input: `https://site.test:${lab.port}/`, verdict: 'accessible' });
  });
});
