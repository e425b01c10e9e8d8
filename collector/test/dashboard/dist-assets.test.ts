import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The dashboard's browser files are not compiled: the collector serves them
 * from src/dashboard/assets/, found relative to its own module. This runs the
 * *built* collector (dist/, as `npx steppe-collector` does) and checks it
 * serves the page, its modules, uPlot and the SVG. Needs `npx tsc -b` first
 * (npm test builds).
 */
const DIST_ROUTES = fileURLToPath(new URL('../../dist/dashboard/routes.js', import.meta.url));
const DIST_ROUTER = fileURLToPath(new URL('../../dist/http/router.js', import.meta.url));

// A collector in a child process: the dist modules, a store that holds nothing.
const SCRIPT = `
import { createServer } from 'node:http';
const { Router } = await import(${JSON.stringify(DIST_ROUTER)});
const { registerDashboardRoutes } = await import(${JSON.stringify(DIST_ROUTES)});
const store = { rollups: () => [], probeCounts: () => [], listEvents: () => [] };
const router = new Router();
registerDashboardRoutes(router, { store, clock: { now: () => Date.UTC(2020, 11, 7) } });
const server = createServer((req, res) => void router.handle(req, res).then((ok) => { if (!ok) { res.writeHead(404); res.end(); } }));
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.on('end', () => server.close());
process.stdin.resume();
`;

let child: ChildProcess | undefined;
let base = '';

beforeAll(async () => {
  if (!existsSync(DIST_ROUTES)) throw new Error(`${DIST_ROUTES} is missing: run \`npx tsc -b\` first (npm test does)`);
  const proc = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  child = proc;
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.on('exit', (code) => reject(new Error(`the built collector exited with ${code}: ${stderr}`)));
  });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child?.on('exit', resolve));
  child.stdin?.end();
  await exited;
});

describe('the built collector (dist/)', () => {
  it('serves the page, its modules and uPlot from the source tree and node_modules', async () => {
    const page = await fetch(`${base}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/dashboard/assets/app.js"></script>');
    for (const path of ['/dashboard/assets/app.js', '/dashboard/assets/heat-strip.js', '/dashboard/assets/style.css', '/dashboard/vendor/uPlot.esm.js', '/dashboard/vendor/uPlot.min.css']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect((await res.arrayBuffer()).byteLength, path).toBeGreaterThan(100);
    }
  });

  it('renders the SVG', async () => {
    const res = await fetch(`${base}/api/v1/timeline.svg?since=2020-12-06&until=2020-12-07`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('No measurements match these filters in this range.');
  });
});
