import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CliIO, type Command, CONTROL_PATH, checkOption, check, EgressGuard, endpointUrl, EXIT, parseCommandLine } from '@steppe/shared';
import { readBudgetUsage, type BudgetUsage } from '../../budget/bandwidth-budget.js';
import { configPath, controlUrlOf, loadProbeConfig, resolveDataDir, resolverOf } from '../../config/file.js';
import type { ProbeConfig } from '../../config/schema.js';
import { guardedLookup } from '../../connectivity/guarded-lookup.js';
import { createGuardedHttpGet } from '../../connectivity/http-get.js';
import { type ConsentRecord, hasCurrentConsent, readConsent } from '../../consent/consent-record.js';
import { CONSENT_VERSION } from '../../consent/notice.js';
import { secureDataDir } from '../../data-dir/file-modes.js';
import { readPemSetting } from '../../daemon/probe-context.js';
import { RunHistory, type RunRecord } from '../../daemon/run-history.js';
import { KEY_FILE_NAME, loadOrCreateIdentity } from '../../identity/identity.js';
import { Outbox, type OutboxStats } from '../../outbox/outbox.js';
import { TestListStore } from '../../testlists/store.js';
import { OUTBOX_FILE_NAME } from '../upload-results.js';
import { formatBytes, formatDuration, table } from '../progress.js';

const HELP = `Usage: steppe-probe status [options]

Show the probe's configuration, identity (key fingerprint), informed consent,
monthly bandwidth budget, outbox (queued measurements, last upload), the
last runs, and whether each collector can be reached right now (a quick
HTTP request through the probe's egress rules and proxy).

Options:
  --data-dir DIR     the probe's data directory (as given to init)
  --timeout-ms N     time allowed for each collector check (default 5000)
  --json             print one JSON object instead of text

Exit status: 0 status shown (whether or not a collector is reachable);
2 no config, or a bad one.
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  'timeout-ms': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** One collector check. */
interface Reachability {
  readonly url: string;
  readonly role: 'collector' | 'control';
  readonly reachable: boolean;
  readonly status?: number;
  readonly ms: number;
  readonly error?: string;
}

/** Everything `status` reports (the --json form). */
interface StatusReport {
  readonly dataDir: string;
  readonly configPath: string;
  readonly config: {
    readonly collectors: string[];
    readonly controlUrl: string;
    readonly schedule: ProbeConfig['schedule'];
    readonly lists: string[];
    readonly categories: string[];
    readonly excludeCategories: string[];
    readonly limits: ProbeConfig['limits'];
    readonly proxy: string | null;
  };
  readonly identity: { readonly probeId: string; readonly fingerprint: string } | null;
  readonly consent: (ConsentRecord & { readonly current: boolean }) | null;
  readonly testLists: { readonly version: string; readonly origin: string };
  readonly budget: BudgetUsage & { readonly coreListOnly: boolean };
  readonly outbox: OutboxStats | null;
  readonly lastRuns: RunRecord[];
  readonly collectors: Reachability[];
}

async function checkCollectors(config: ProbeConfig, env: NodeJS.ProcessEnv, timeoutMs: number, signal: AbortSignal): Promise<Reachability[]> {
  const guard = new EgressGuard(config.network.allowNet);
  const resolver = resolverOf(config);
  const localAddress = config.network.localAddress ?? undefined;
  const lookup = guardedLookup({ resolver, guard, localAddress, timeoutMs });
  const ca = readPemSetting('network.caFile', config.network.caFile);
  const get = createGuardedHttpGet({ guard, lookup, localAddress: localAddress ?? null, proxy: config.network.proxy, env, extraCaPem: ca?.join('') ?? null });
  const targets: { url: string; role: 'collector' | 'control' }[] = config.collectors.map((url) => ({ url, role: 'collector' }));
  const control = controlUrlOf(config);
  if (!config.collectors.some((c) => new URL(c).origin === new URL(control).origin)) targets.push({ url: control, role: 'control' });
  return Promise.all(
    targets.map(async ({ url, role }): Promise<Reachability> => {
      const started = performance.now();
      const probeUrl = endpointUrl(url, CONTROL_PATH).toString();
      try {
        const response = await get(probeUrl, { timeoutMs, maxBytes: 64 * 1024, signal });
        return { url, role, reachable: true, status: response.status, ms: Math.round(performance.now() - started) };
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const message = err instanceof Error ? err.message : String(err);
        return { url, role, reachable: false, ms: Math.round(performance.now() - started), error: typeof code === 'string' ? `${code}: ${message}` : message };
      }
    }),
  );
}

function readOutbox(dataDir: string): OutboxStats | null {
  const path = join(dataDir, OUTBOX_FILE_NAME);
  if (!existsSync(path)) return null;
  const outbox = Outbox.open(path);
  try {
    return outbox.stats();
  } finally {
    outbox.close();
  }
}

async function gather(dataDir: string, io: CliIO, timeoutMs: number): Promise<StatusReport> {
  const config = loadProbeConfig(dataDir);
  secureDataDir(dataDir);
  const identity = existsSync(join(dataDir, KEY_FILE_NAME)) ? loadOrCreateIdentity(dataDir) : undefined;
  const consent = readConsent(dataDir);
  const catalog = new TestListStore(dataDir).load();
  const budget = readBudgetUsage(dataDir, config.limits.monthlyBudgetBytes);
  const collectors = await checkCollectors(config, io.env, timeoutMs, io.signal);
  return {
    dataDir,
    configPath: configPath(dataDir),
    config: {
      collectors: config.collectors,
      controlUrl: controlUrlOf(config),
      schedule: config.schedule,
      lists: ['core', ...config.testLists.lists],
      categories: config.testLists.categories,
      excludeCategories: config.testLists.excludeCategories,
      limits: config.limits,
      proxy: config.network.proxy,
    },
    identity: identity === undefined ? null : { probeId: identity.probeId, fingerprint: identity.fingerprint },
    consent: consent === undefined ? null : { ...consent, current: hasCurrentConsent(consent) },
    testLists: { version: catalog.version, origin: [...catalog.lists.values()].some((l) => l.origin === 'collector') ? 'collector' : 'shipped' },
    budget: { ...budget, coreListOnly: budget.exhausted },
    outbox: readOutbox(dataDir),
    lastRuns: new RunHistory(dataDir).list().slice(0, 5),
    collectors,
  };
}

function iso(ms: number | undefined): string {
  return ms === undefined ? 'never' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function render(r: StatusReport): string {
  const c = r.config;
  const out: string[] = [];
  const section = (title: string, rows: string[][]): void => {
    out.push(title, table(rows), '');
  };
  section('Configuration', [
    ['data dir', r.dataDir],
    ['config', r.configPath],
    ['collectors', c.collectors.join(', ')],
    ['control', c.controlUrl],
    ['schedule', `core "${c.schedule.coreCron}", full "${c.schedule.fullCron}" (${c.schedule.timezone}), random delay up to ${c.schedule.maxJitterSeconds} s`],
    ['test lists', `${c.lists.join(', ')} (version ${r.testLists.version}, ${r.testLists.origin})`],
    ['categories', `${c.categories.length === 0 ? 'all' : c.categories.join(', ')}${c.excludeCategories.length > 0 ? `, never ${c.excludeCategories.join(', ')}` : ''}`],
    ['limits', `${c.limits.concurrency} at once, ${c.limits.perTargetTimeoutMs / 1000} s per target, body ${formatBytes(c.limits.maxBodyBytes)}`],
    ...(c.proxy !== null ? [['proxy', c.proxy]] : []),
  ]);
  section('Identity', r.identity === null ? [['key', 'none yet (run steppe-probe init)']] : [['probe id', r.identity.probeId], ['fingerprint', r.identity.fingerprint]]);
  section('Informed consent', [
    [
      'notice',
      r.consent === null
        ? 'NOT ACCEPTED: the probe will not measure (run steppe-probe init)'
        : r.consent.current
          ? `version ${r.consent.version} accepted ${r.consent.acceptedAt}`
          : `version ${r.consent.version} accepted, but the notice changed (now version ${CONSENT_VERSION}): run steppe-probe init`,
    ],
  ]);
  const b = r.budget;
  section(`Bandwidth budget (${b.month}, UTC)`, [
    ['used', b.limitBytes === null ? `${formatBytes(b.usedBytes)} (no monthly limit)` : `${formatBytes(b.usedBytes)} of ${formatBytes(b.limitBytes)}, ${formatBytes(b.remainingBytes ?? 0)} left`],
    ['resets', iso(b.resetsAtMs)],
    ...(b.exhausted ? [['state', 'budget reached: core list only until the month ends']] : []),
  ]);
  const o = r.outbox;
  section(
    'Outbox',
    o === null
      ? [['queued', 'empty (nothing measured yet)'], ['last upload', 'never']]
      : [
          ['queued', `${o.count} measurement(s), ${formatBytes(o.bytes)}${o.oldestStartTimeMs !== undefined ? `, oldest ${iso(o.oldestStartTimeMs)}` : ''}`],
          ['last upload', iso(o.lastUploadMs)],
          ...(o.dropped > 0 ? [['dropped', `${o.dropped} by the size/age cap (${formatBytes(o.droppedBytes)})`]] : []),
          ...(o.quarantined > 0 ? [['set aside', `${o.quarantined} rejected by the collector`]] : []),
        ],
  );
  out.push('Last runs');
  if (r.lastRuns.length === 0) {
    out.push('  none yet', '');
  } else {
    out.push(
      table([
        ['started', 'kind', 'outcome', 'measured', 'anomalies', 'moved', 'took'],
        ...r.lastRuns.map((run) => [
          iso(run.startedAtMs),
          run.kind,
          `${run.outcome}${run.limitedByBudget ? ' (budget: core only)' : ''}`,
          `${run.measured}`,
          `${Object.entries(run.verdicts).filter(([v]) => v !== 'accessible' && v !== 'down' && v !== 'none').reduce((a, [, n]) => a + n, 0)}`,
          formatBytes(run.bytesMoved),
          formatDuration(run.finishedAtMs - run.startedAtMs),
        ]),
      ]),
      '',
    );
  }
  section(
    'Collectors (checked now)',
    r.collectors.map((x) => [x.url, x.role, x.reachable ? `reachable (HTTP ${x.status ?? '?'} in ${x.ms} ms)` : `UNREACHABLE (${x.error ?? 'no answer'})`]),
  );
  return out.join('\n');
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  const timeoutMs = checkOption('--timeout-ms', values['timeout-ms'] ?? '5000', check.integer({ min: 100, max: 120_000 }));
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const report = await gather(dataDir, io, timeoutMs);
  io.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return EXIT.OK;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show config, identity, budget, outbox, last runs and collector reachability',
  help: HELP,
  run,
};
