#!/usr/bin/env node
// Screenshot of a running demo's dashboard with headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), for docs/images/. Every
// request the page makes that is not to 127.0.0.1 is aborted, and reported.
//
//   npm run demo                      # prints "Dashboard   http://127.0.0.1:PORT/dashboard?..."
//   node test/lab/demo/screenshot.mjs --url 'http://127.0.0.1:PORT/dashboard?...' --out docs/images/demo-dashboard.png
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const { values } = parseArgs({ options: { url: { type: 'string' }, out: { type: 'string' }, width: { type: 'string' } } });
if (values.url === undefined || values.out === undefined) {
  process.stderr.write('usage: screenshot.mjs --url http://127.0.0.1:PORT/dashboard?... --out FILE.png [--width 1400]\n');
  process.exit(2);
}
const target = new URL(values.url);
if (target.hostname !== '127.0.0.1') {
  process.stderr.write(`screenshot: only a loopback dashboard (127.0.0.1), not ${target.hostname}\n`);
  process.exit(2);
}
if (!existsSync(CHROMIUM)) {
  process.stderr.write(`screenshot: needs ${CHROMIUM} (apt-get install -y chromium)\n`);
  process.exit(1);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'steppe-demo-chromium-'));
const blocked = [];
const problems = [];
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  viewport: { width: Number(values.width ?? 1400), height: 1000 },
  deviceScaleFactor: 1,
});
try {
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1') return route.continue();
    blocked.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.goto(target.href, { waitUntil: 'networkidle' });
  await page.waitForFunction(() => document.body.getAttribute('aria-busy') === null && (document.getElementById('status')?.textContent ?? '') !== 'Loading…', undefined, { timeout: 30_000 });
  const out = resolve(values.out);
  await page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`screenshot: ${out}\n`);
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
if (blocked.length > 0) process.stderr.write(`screenshot: blocked ${blocked.length} non-loopback requests: ${blocked.join(' ')}\n`);
if (problems.length > 0) process.stderr.write(`screenshot: page problems: ${problems.join(' | ')}\n`);
process.exit(blocked.length > 0 || problems.length > 0 ? 1 : 0);
