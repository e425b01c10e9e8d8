// bench/probe-footprint/startup-times.mjs: what starting a Steppe process
// costs, as wall time (median of N fresh processes) and peak RSS:
//   - `import('@steppe/shared')` in a bare node (what every CLI and test pays);
//   - `steppe-probe --help`;
//   - `steppe-collector serve` until its `listening` log line (fresh database,
//     loopback only, no geo databases), then SIGTERM.
// `node -e 0` is measured alongside as the floor. With several --root, the
// checkouts are measured in turn (round-robin), so a before/after comparison
// sees the same load on a shared machine. Plain JS over the built packages:
// run `npm run build` first. Usage:
//   node bench/probe-footprint/startup-times.mjs [--runs 7] [--root DIR ...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '7' },
  root: { type: 'string', multiple: true },
} });
const runs = Number(values.runs);
const roots = (values.root ?? [fileURLToPath(new URL('../../', import.meta.url))]).map((r) => resolve(r));

/** Run node to its end; wall ms, and peak RSS (KiB) as GNU time reports it. */
function timed(args, cwd) {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, ...args], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.once('error', fail);
    child.once('exit', (code) => {
      const ms = performance.now() - t0;
      const rss = Number(/MAXRSS (\d+)/.exec(err)?.[1] ?? NaN);
      if (code !== 0) fail(new Error(`${args.join(' ')} exited with ${code}: ${err.slice(0, 500)}`));
      else done({ ms, rssKiB: rss });
    });
  });
}

/** `steppe-collector serve` until `listening`; wall ms and RSS then (KiB). */
function collectorServe(root) {
  return new Promise((done, fail) => {
    const dir = mkdtempSync(join(tmpdir(), 'steppe-startup-'));
    const t0 = performance.now();
    const child = spawn(process.execPath, [
      join(root, 'collector', 'bin', 'steppe-collector.js'), 'serve', '--db', join(dir, 'c.db'), '--data-dir', dir,
      '--port', '0', '--host', '127.0.0.1', '--no-geo-databases', '--control-resolver', '127.0.0.1:53', '--allow-net', '127.0.0.0/8',
    ], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let result;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (result !== undefined || !line.includes('"listening"')) return;
      const ms = performance.now() - t0;
      let rssKiB = NaN;
      try {
        rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(readStatus(child.pid))?.[1] ?? NaN);
      } catch {
        // exited already
      }
      result = { ms, rssKiB };
      child.kill('SIGTERM');
    });
    child.once('error', fail);
    child.once('exit', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (result === undefined) fail(new Error(`collector serve exited with ${code} before listening`));
      else done(result);
    });
  });
}

function readStatus(pid) {
  return readFileSync(`/proc/${pid}/status`, 'utf8');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const cases = {
  'node -e 0': (root) => timed(['-e', '0'], root),
  'import @steppe/shared': (root) => timed(['--input-type=module', '-e', "await import('@steppe/shared')"], root),
  'steppe-probe --help': (root) => timed([join(root, 'probe', 'bin', 'steppe-probe.js'), '--help'], root),
  'steppe-collector serve (to listening)': (root) => collectorServe(root),
};

const samples = new Map();
const loadStart = loadavg()[0] ?? 0;
for (let i = 0; i < runs; i += 1) {
  for (const [name, run] of Object.entries(cases)) {
    for (const root of roots) {
      const key = `${root}\t${name}`;
      const r = await run(root);
      samples.set(key, [...(samples.get(key) ?? []), r]);
    }
  }
}
const out = { runs, load_average_1m: { start: Number(loadStart.toFixed(2)), end: Number((loadavg()[0] ?? 0).toFixed(2)) }, results: {} };
for (const root of roots) {
  out.results[root] = {};
  for (const name of Object.keys(cases)) {
    const rs = samples.get(`${root}\t${name}`) ?? [];
    out.results[root][name] = {
      median_ms: Math.round(median(rs.map((r) => r.ms))),
      min_ms: Math.round(Math.min(...rs.map((r) => r.ms))),
      rss_mib: Number((median(rs.map((r) => r.rssKiB)) / 1024).toFixed(1)),
    };
  }
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
