import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { type CliIO, EXIT, runCli, wire } from '@steppe/shared';
import { controlCommand } from '../../src/cli/commands/control.js';
import { type LabPki, type TestResolver, type TestSite, makeLabPki, startHttpsSite, startResolver } from './helpers/lab.js';

// `steppe-collector control` as a process: the built CLI (npx tsc -b first).
const BIN = fileURLToPath(new URL('../../bin/steppe-collector.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../../dist/cli/commands/control.js', import.meta.url)));

interface Run {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<number | null>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [BIN, 'control', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (c: Buffer) => {
    run.stdout += c.toString('utf8');
  });
  child.stderr?.on('data', (c: Buffer) => {
    run.stderr += c.toString('utf8');
  });
  return run;
}

async function listeningUrl(run: Run): Promise<string> {
  for (let i = 0; i < 200; i += 1) {
    const m = /listening on (http:\/\/\S+)/.exec(run.stdout);
    if (m?.[1] !== undefined) return m[1];
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no listening line; stderr: ${run.stderr}`);
}

describe.skipIf(!BUILT)('steppe-collector control', () => {
  let pki: LabPki;
  let site: TestSite;
  let resolver: TestResolver;
  let dir: string;
  beforeAll(async () => {
    pki = makeLabPki();
    site = await startHttpsSite(pki, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><head><title>CLI site</title></head></html>');
    });
    resolver = await startResolver({ 'site.test': { A: ['127.0.0.1'] } });
    dir = mkdtempSync(join(tmpdir(), 'steppe-control-cli-'));
    writeFileSync(join(dir, 'ca.pem'), pki.caPem);
  });
  afterAll(async () => {
    await Promise.all([site.close(), resolver.close()]);
    pki.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the endpoint, prints its URL and stops cleanly on SIGTERM', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1', '--resolver', `${resolver.host}:${resolver.port}`,
      '--allow-net', '127.0.0.0/8', '--control-local-address', '127.0.0.1', '--ca-file', join(dir, 'ca.pem')]);
    try {
      const url = await listeningUrl(run);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/control$/);
      const response = await fetch(url, { method: 'POST', body: JSON.stringify({ url: `https://site.test:${site.port}/`, addresses: ['127.0.0.1'] }) });
      expect(response.status).toBe(200);
      const control = wire.ControlMeasurement.fromObject((await response.json()) as Record<string, unknown>);
      expect(control.http).toMatchObject({ statusCode: 200, title: 'CLI site' });
      expect(control.tls[0]?.validForDomain).toBe(true);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exit).toBe(0);
    expect(run.stdout).toContain('stopped');
  });

  it('exits 2 naming a bad option', async () => {
    const missing = start(['--host', '127.0.0.1']);
    expect(await missing.exit).toBe(2);
    expect(missing.stderr).toContain('--port');
  });
});

describe('control command arguments (in process)', () => {
  function io(): { io: CliIO; err: () => string } {
    let err = '';
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const stderr = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        err += chunk.toString('utf8');
        cb();
      },
    });
    return { io: { stdout: sink, stderr, stdin: process.stdin, env: {}, signal: AbortSignal.abort() }, err: () => err };
  }

  it.each([
    [['--host', '127.0.0.1'], '--port'],
    [['--port', '70000', '--resolver', '127.0.0.1:53'], '--port'],
    [['--port', '0', '--host', 'localhost', '--resolver', '127.0.0.1:53'], '--host'],
    [['--port', '0', '--resolver', '127.0.0.1'], '--resolver'],
    [['--port', '0', '--resolver', '127.0.0.1:53', '--allow-net', 'everything'], '--allow-net'],
    [['--port', '0', '--resolver', '127.0.0.1:53', '--control-local-address', 'nope'], '--control-local-address'],
    [['--port', '0', '--resolver', '127.0.0.1:53', '--ca-file', '/nonexistent/ca.pem'], '--ca-file'],
    [['--port', '0', '--resolver', '127.0.0.1:53', '--frobnicate'], 'frobnicate'],
  ])('%j exits 2 naming %s', async (args, option) => {
    const { io: cli, err } = io();
    const status = await runCli({ program: 'steppe-collector', version: 'test', description: '', commands: { control: { summary: '', load: async () => controlCommand } }, argv: ['control', ...args], io: cli });
    expect(status).toBe(EXIT.USAGE);
    expect(err()).toContain(option);
  });
});
