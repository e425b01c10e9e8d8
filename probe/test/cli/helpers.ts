import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { CliIO } from '@steppe/shared';
import { main } from '../../src/cli/main.js';
import { buildConfigDocument, writeProbeConfig } from '../../src/config/file.js';
import { CLIENT_ADDRESS_HEADER, TEST_LIST_BUNDLE_FORMAT } from '@steppe/shared';
import { COLLECTOR_BUNDLE_FILE } from '../../src/testlists/store.js';

/** The probe's source address in these tests: "the volunteer's IP". */
export const ME = '127.0.2.1';

/** A CliIO whose output is captured; `tty` makes stdin/stderr look like a terminal. */
export function captureIO(options: { input?: string; tty?: boolean; env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (options.tty === true) {
    stdin.isTTY = true;
    stderr.isTTY = true;
    stderr.columns = 100;
  }
  if (options.input !== undefined) stdin.end(options.input);
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const io: CliIO = { stdout, stderr, stdin, env: options.env ?? {}, signal: options.signal ?? new AbortController().signal };
  return { io, out: () => out, err: () => err };
}

/** Run `steppe-probe <args>` in this process. */
export async function probe(args: string[], options: Parameters<typeof captureIO>[0] = {}): Promise<{ code: number; out: string; err: string }> {
  const c = captureIO(options);
  const code = await main(args, c.io);
  return { code, out: c.out(), err: c.err() };
}

/**
 * A stand-in for the collector's HTTP side on loopback: GET /api/v1/control
 * answers 405 (as a POST-only route does) and POST answers a minimal control
 * measurement; both echo the caller's address in x-steppe-client-address, as
 * the collector does. Plus one web page echoing the client address.
 */
export async function fakeCollector(): Promise<{ url: string; pageUrl: string; posts: () => number; close: () => Promise<void> }> {
  let posts = 0;
  const server: Server = createServer((req, res) => {
    const seen = req.socket.remoteAddress ?? '';
    if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html', via: `1.1 ${seen}` });
      res.end(`<html><head><title>Hello ${seen}</title></head><body>from ${seen}</body></html>`);
      return;
    }
    if (req.url !== '/api/v1/control') {
      res.writeHead(404);
      res.end();
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', [CLIENT_ADDRESS_HEADER]: seen });
      res.end();
      return;
    }
    posts += 1;
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', [CLIENT_ADDRESS_HEADER]: seen });
      res.end(JSON.stringify({ measuredAtMs: Date.now(), dns: { addresses: [] }, tcp: [], tls: [], http: { statusCode: 200, bodyLength: 80, title: 'Hello 198.51.100.1' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    pageUrl: `${url}/page`,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A temporary data directory, removed by `cleanup`. */
export function tempDataDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-cli-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A config for the loopback lab: loopback egress only, the probe bound to
 * ME, no random delay, and a collector "core" list holding only `urls` (so no
 * real domain is ever looked up).
 */
export function labConfig(dir: string, options: { collectors: string[]; control?: string; urls: string[]; cron?: string }): void {
  const doc = buildConfigDocument({
    dataDir: dir,
    collectors: options.collectors,
    controlUrl: options.control ?? null,
    resolver: '127.0.0.1:9',
    allowNet: ['127.0.0.0/8'],
    localAddress: ME,
  });
  const schedule = { coreCron: options.cron ?? '*/15 * * * *', fullCron: '0 */6 * * *', maxJitterSeconds: 0, timezone: 'UTC' };
  const limits = { ...(doc['limits'] as object), perTargetTimeoutMs: 3000, uploadTimeoutMs: 300 };
  writeProbeConfig(dir, { ...doc, schedule, limits, testLists: { ...(doc['testLists'] as object), lists: [], acceptFromCollector: false } });
  const csv = `url,category_code,category_description,date_added,source,notes\n${options.urls.map((u) => `${u},NEWS,News Media,2020-12-06,test,`).join('\n')}\n`;
  mkdirSync(dirname(join(dir, COLLECTOR_BUNDLE_FILE)), { recursive: true });
  writeFileSync(join(dir, COLLECTOR_BUNDLE_FILE), JSON.stringify({ format: TEST_LIST_BUNDLE_FORMAT, version: 'lab-1', lists: [{ name: 'core', csv }] }));
}
