import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { generateSigningKeyPair, parseCidrList, probeIdFromPublicKey } from '@steppe/shared';
import { measureTargets, type Target } from 'steppe-probe';

// bench/probe-run: the probe engine over N lab-like loopback targets at a
// given concurrency: wall time, peak RSS of the probe process, bytes moved.
// The lab (resolver, censoring TLS front, control vantage) runs in a child
// process. Usage (after `npm run build` and the bench build, see RESULTS.md):
//   node bench/dist/bench/probe-run/run.js --targets 100 --concurrency 8
const { values } = parseArgs({ options: {
  targets: { type: 'string', default: '100' },
  concurrency: { type: 'string', default: '8' },
  'timeout-ms': { type: 'string', default: '10000' },
  // Measure without the V8 setting the probe's CLI applies to itself
  // (probe/src/cli/v8-tuning.ts: `--liftoff-only` for every command).
  'no-v8-tuning': { type: 'boolean', default: false },
} });
// As `steppe-probe measure` does before its first request (undici, and its
// llhttp WebAssembly, load with it): a library embedding the engine decides this itself.
if (!values['no-v8-tuning']) setFlagsFromString('--liftoff-only');
const count = Number(values.targets);
const concurrency = Number(values.concurrency);

const dir = mkdtempSync(join(tmpdir(), 'steppe-probe-run-'));
const labScript = new URL('./lab-process.js', import.meta.url);
const labProcess = spawn(process.execPath, [labScript.pathname, dir], { stdio: ['pipe', 'pipe', 'inherit'] });
const first = await new Promise<string>((resolve, reject) => {
  const lines = createInterface({ input: labProcess.stdout });
  lines.once('line', resolve);
  labProcess.once('exit', (code) => reject(new Error(`lab exited with ${code}`)));
});
const lab = JSON.parse(first) as { resolver: { host: string; port: number }; port: number; controlUrl: string };

// The lab's mix, as a test list might meet it in Kazakhstan in December 2020:
// mostly reachable sites, some SNI-reset, intercepted, DNS-blocked, down.
const MIX: readonly [string, number][] = [['site.test', 60], ['blocked.test', 10], ['mitm.test', 10], ['nx.test', 10], ['gone.test', 10]];
const targets: Target[] = [];
for (let i = 0; targets.length < count; i += 1) {
  for (const [host, share] of MIX) {
    for (let k = 0; k < share && targets.length < count; k += 1) {
      targets.push({ url: `https://${host}:${lab.port}/page-${i}-${k}`, categoryCode: 'GRP', testList: 'bench' });
    }
  }
}

const verdicts = new Map<string, number>();
const runtimes = new Map<string, number[]>();
let sent = 0;
let received = 0;
let peakHeap = 0;
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
}, 50);
const usageBefore = process.resourceUsage();
const rssBefore = usageBefore.maxRSS;
const t0 = performance.now();
await measureTargets(targets, {
  probeId: probeIdFromPublicKey(generateSigningKeyPair().publicKey),
  resolver: lab.resolver,
  controlUrl: lab.controlUrl,
  allowNet: parseCidrList('127.0.0.0/8'),
  localAddress: '127.0.0.2',
  extraCaPem: [readFileSync(join(dir, 'ca.pem'), 'utf8')],
  interceptionRootsPem: [readFileSync(join(dir, 'state.pem'), 'utf8')],
  labAddresses: parseCidrList('127.0.0.0/8'),
  controlSni: 'example.org',
  perTargetTimeoutMs: Number(values['timeout-ms']),
  maxBodyBytes: 512 * 1024,
  concurrency,
}, {
  onMeasurement: (m, traffic) => {
    const v = m.analysis?.verdict ?? '';
    verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
    runtimes.set(v, [...(runtimes.get(v) ?? []), m.runtimeMs]);
    sent += traffic.bytesSent;
    received += traffic.bytesReceived;
  },
});
const wallMs = performance.now() - t0;
clearInterval(sampler);
const usageAfter = process.resourceUsage();
const peakRssKiB = usageAfter.maxRSS;
// After the run: anonymous memory (the process's own) vs file-backed pages (node binary, ICU, libraries).
const status = readFileSync('/proc/self/status', 'utf8');
const statusMiB = (field: string): number => Number((Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024).toFixed(1));
const loadAverage = (await import('node:os')).loadavg()[0] ?? 0;
labProcess.stdin.end();
await new Promise((resolve) => labProcess.once('exit', resolve));
rmSync(dir, { recursive: true, force: true });

process.stdout.write(`${JSON.stringify({
  targets: count,
  concurrency,
  wall_ms: Math.round(wallMs),
  targets_per_s: Number((count / (wallMs / 1000)).toFixed(2)),
  probe_cpu_user_ms: Math.round((usageAfter.userCPUTime - usageBefore.userCPUTime) / 1000),
  probe_cpu_system_ms: Math.round((usageAfter.systemCPUTime - usageBefore.systemCPUTime) / 1000),
  load_average_1m: Number(loadAverage.toFixed(2)),
  peak_rss_mib: Number((peakRssKiB / 1024).toFixed(1)),
  rss_before_mib: Number((rssBefore / 1024).toFixed(1)),
  rss_at_end_mib: statusMiB('VmRSS'),
  anon_at_end_mib: statusMiB('RssAnon'),
  file_at_end_mib: statusMiB('RssFile'),
  v8_tuning: !values['no-v8-tuning'],
  peak_heap_mib: Number((peakHeap / 1048576).toFixed(1)),
  bytes_sent: sent,
  bytes_received: received,
  bytes_per_target: Math.round((sent + received) / count),
  verdicts: Object.fromEntries([...verdicts.entries()].sort()),
  mean_runtime_ms_by_verdict: Object.fromEntries([...runtimes.entries()].sort().map(([v, r]) => [v, Math.round(r.reduce((a, b) => a + b, 0) / r.length)])),
}, null, 2)}\n`);
