import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CITIZEN_LAB_HEADER, csvField, TEST_LIST_BUNDLE_FORMAT } from '@steppe/shared';
import { buildConfigDocument, COLLECTOR_BUNDLE_FILE, CONSENT_VERSION, CORE_TARGETS, loadShippedList, writeProbeConfig } from 'steppe-probe';

// bench/probe-footprint: what the probe daemon costs a volunteer's machine.
// Real `steppe-probe start` processes against the lab (every host of the
// core and Kazakhstan lists is a lab site): RSS when idle, peak RSS, CPU
// seconds and bytes moved for one run of the core list and one of the
// Kazakhstan list. Figures come from /proc/<pid>/status (VmRSS, VmHWM) and
// /proc/<pid>/stat (utime + stime), and from the daemon's own run_finished
// log line (bytes moved = every socket's counters).
// Usage (see RESULTS.md for the build step):
//   node bench/dist/bench/probe-footprint/run.js [--idle-seconds 20] [--concurrency 4]
const { values } = parseArgs({ options: {
  'idle-seconds': { type: 'string', default: '20' },
  // How long a daemon stays up after its run before the "idle after a run"
  // sample: the state a daemon spends most of its life in between runs.
  'after-run-seconds': { type: 'string', default: '15' },
  concurrency: { type: 'string', default: '4' },
  'timeout-ms': { type: 'string', default: '15000' },
  // V8 flags for the probe processes, e.g. "--max-semi-space-size=1" (what the unit and images set).
  'node-options': { type: 'string', default: '' },
  only: { type: 'string', default: 'idle,core,kz' },
  // Without the lab's root as an extra CA: every TLS connection then uses
  // Node's default context, as in production (chains fail verification, so
  // verdicts are meaningless; only the resource figures are of interest).
  'no-extra-ca': { type: 'boolean', default: false },
} });
const only = new Set(values.only.split(','));
const idleSeconds = Number(values['idle-seconds']);
const afterRunSeconds = Number(values['after-run-seconds']);
const concurrency = Number(values.concurrency);
/** The repository root, from wherever this file was compiled to. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'probe', 'bin', 'steppe-probe.js'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root');
    dir = up;
  }
  return dir;
}
const ROOT = repoRoot();
const PROBE_BIN = join(ROOT, 'probe', 'bin', 'steppe-probe.js');
const CLK_TCK = 100; // Linux USER_HZ

const work = mkdtempSync(join(tmpdir(), 'steppe-footprint-'));
const kz = loadShippedList('kz').entries;
const core = CORE_TARGETS.map((t) => ({ url: t.url, categoryCode: t.categoryCode }));
const hostOf = (url: string): string => new URL(url).hostname.toLowerCase();
const hosts = [...new Set([...core, ...kz].map((e) => hostOf(e.url)))];
writeFileSync(join(work, 'hosts.json'), JSON.stringify(hosts));

const lab = spawn(process.execPath, [join(ROOT, 'bench', 'probe-footprint', 'lab-process.mjs'), join(work, 'hosts.json')], { stdio: ['pipe', 'pipe', 'inherit'] });
const info = JSON.parse(await new Promise<string>((resolve, reject) => {
  createInterface({ input: lab.stdout }).once('line', resolve);
  lab.once('exit', (code) => reject(new Error(`lab exited with ${code}`)));
})) as { resolver: string; ports: { http: number; https: number }; rootCaFile: string; stateRootFile: string; controlUrl: string; probeSource: string; sites: number };

/** A list's URL with the lab's port for its scheme (the host, path and query stay). */
function labUrl(url: string): string {
  const u = new URL(url);
  u.port = String(u.protocol === 'https:' ? info.ports.https : info.ports.http);
  return u.toString();
}

/** A data dir whose core list is `entries` (as a collector bundle), ready to start. */
function dataDir(name: string, entries: readonly { url: string; categoryCode: string }[]): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const doc = buildConfigDocument({
    dataDir: dir,
    collectors: ['http://127.0.0.1:1'], // no collector: uploads wait in the outbox, as offline
    controlUrl: info.controlUrl,
    resolver: info.resolver,
    allowNet: ['127.0.0.0/8'],
    localAddress: info.probeSource,
    concurrency,
    caFile: values['no-extra-ca'] ? null : info.rootCaFile,
  });
  writeProbeConfig(dir, {
    ...doc,
    // Never fires during the bench: runs are started with --run-now only.
    schedule: { coreCron: '0 0 1 1 *', fullCron: '0 0 1 1 *', maxJitterSeconds: 0, timezone: 'UTC' },
    testLists: { lists: [], categories: [], excludeCategories: [], acceptFromCollector: false },
    limits: { ...(doc['limits'] as object), perTargetTimeoutMs: Number(values['timeout-ms']) },
    network: { ...(doc['network'] as object), interceptionRootsFile: info.stateRootFile, labAddresses: ['127.0.0.0/8'] },
  });
  const csv = [CITIZEN_LAB_HEADER.join(','), ...entries.map((e) => [labUrl(e.url), e.categoryCode, '', '', 'bench', ''].map(csvField).join(','))].join('\n');
  const bundlePath = join(dir, COLLECTOR_BUNDLE_FILE);
  mkdirSync(dirname(bundlePath), { recursive: true });
  writeFileSync(bundlePath, JSON.stringify({ format: TEST_LIST_BUNDLE_FORMAT, version: `bench-${name}`, lists: [{ name: 'core', csv: `${csv}\n` }] }));
  writeFileSync(join(dir, 'consent.json'), JSON.stringify({ version: CONSENT_VERSION, acceptedAtMs: Date.now(), acceptedAt: new Date().toISOString(), method: 'accept-risks-flag' }));
  return dir;
}

// VmRSS = RssAnon (heap, malloc: the process's own) + RssFile (pages of the
// node binary, ICU data and shared libraries: shared with other processes
// and reclaimable by the kernel) + RssShmem.
interface ProcSample { rssKiB: number; anonKiB: number; fileKiB: number; hwmKiB: number; cpuS: number }
function sample(pid: number): ProcSample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) after the ")" of the command name.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKiB: kib('VmRSS'), anonKiB: kib('RssAnon'), fileKiB: kib('RssFile'), hwmKiB: kib('VmHWM'), cpuS: ticks / CLK_TCK };
}

/** Start a daemon, wait for `untilEvent` in its log, sample it, SIGTERM it. */
async function daemon(dir: string, runNow: boolean, idleMs: number) {
  const env = { ...process.env, NODE_OPTIONS: values['node-options'] };
  const child = spawn(process.execPath, [PROBE_BIN, 'start', '--data-dir', dir, ...(runNow ? ['--run-now'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const pid = child.pid ?? 0;
  const events: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    events.push(line);
    for (const w of waiters.filter((x) => x.event === line['event'])) w.resolve(line);
  });
  const wait = (event: string): Promise<Record<string, unknown>> => new Promise((resolve) => waiters.push({ event, resolve }));
  let maxRss = 0;
  const sampler = setInterval(() => {
    try {
      maxRss = Math.max(maxRss, sample(pid).rssKiB);
    } catch {
      // exited
    }
  }, 100);
  const t0 = performance.now();
  await wait('daemon_started');
  const started = sample(pid);
  const startupMs = performance.now() - t0;
  let finished: Record<string, unknown> | undefined;
  let atRunEnd: ProcSample | undefined;
  if (runNow) {
    finished = await wait('run_finished');
    atRunEnd = sample(pid);
  }
  await new Promise((resolve) => setTimeout(resolve, idleMs));
  const idle = sample(pid);
  const end = idle;
  clearInterval(sampler);
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { startupMs, started, idle, atRunEnd: atRunEnd ?? end, end, maxSampledRssKiB: maxRss, finished, exitCode: code, events: events.length };
}

const mib = (kib: number): number => Number((kib / 1024).toFixed(1));
const results: Record<string, unknown> = { machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version, load_average_1m_at_start: Number((loadavg()[0] ?? 0).toFixed(2)) }, lab_sites: info.sites };
try {
  results['node_options'] = values['node-options'];
  results['extra_ca'] = !values['no-extra-ca'];
  const idle = only.has('idle') ? await daemon(dataDir('idle', core), false, idleSeconds * 1000) : undefined;
  if (idle !== undefined) results['idle'] = {
    startup_ms: Math.round(idle.startupMs),
    rss_after_start_mib: mib(idle.started.rssKiB),
    rss_idle_mib: mib(idle.idle?.rssKiB ?? NaN),
    anon_idle_mib: mib(idle.idle?.anonKiB ?? NaN),
    file_idle_mib: mib(idle.idle?.fileKiB ?? NaN),
    peak_rss_mib: mib(idle.end.hwmKiB),
    cpu_s_startup: idle.started.cpuS,
    cpu_s_idle: Number(((idle.idle?.cpuS ?? 0) - idle.started.cpuS).toFixed(2)),
    idle_seconds: idleSeconds,
    exit_code: idle.exitCode,
  };
  for (const [name, entries] of [['core', core], ['kz', kz]] as const) {
    if (!only.has(name)) continue;
    const run = await daemon(dataDir(name, entries), true, afterRunSeconds * 1000);
    const f = run.finished ?? {};
    results[name] = {
      targets: f['targets'],
      measured: f['measured'],
      outcome: f['outcome'],
      run_wall_s: Number((Number(f['duration_ms']) / 1000).toFixed(1)),
      rss_after_start_mib: mib(run.started.rssKiB),
      peak_rss_mib: mib(run.atRunEnd.hwmKiB),
      rss_at_end_mib: mib(run.atRunEnd.rssKiB),
      anon_at_end_mib: mib(run.atRunEnd.anonKiB),
      rss_idle_after_run_mib: mib(run.idle?.rssKiB ?? NaN),
      anon_idle_after_run_mib: mib(run.idle?.anonKiB ?? NaN),
      file_idle_after_run_mib: mib(run.idle?.fileKiB ?? NaN),
      idle_after_run_seconds: afterRunSeconds,
      cpu_s_startup: run.started.cpuS,
      cpu_s_run: Number((run.atRunEnd.cpuS - run.started.cpuS).toFixed(2)),
      bytes_moved: f['bytes_moved'],
      bytes_per_target: Math.round(Number(f['bytes_moved']) / Math.max(1, Number(f['targets']))),
      verdicts: f['verdicts'],
      exit_code: run.exitCode,
    };
  }
  results['load_average_1m_at_end'] = Number((loadavg()[0] ?? 0).toFixed(2));
} finally {
  lab.stdin.end();
  await new Promise((resolve) => lab.once('exit', resolve));
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
