import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CliIO, type Command, CONTROL_PATH, checkOption, check, EgressGuard, endpointUrl, EXIT, parseCommandLine, type Translator } from '@steppe/shared';
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
import { anomalyCount, formatBytes, formatDuration, table } from '../progress.js';
import { probeText } from '../language.js';

const HELP = `Usage: steppe-probe status [options]

Show the probe's configuration, identity (key fingerprint), informed consent,
monthly bandwidth budget, outbox (queued measurements, last upload), the
last runs, and whether each collector can be reached right now (a quick
HTTP request through the probe's egress rules and proxy).

Text is in the language of --lang, $STEPPE_LANG or the locale (en, ru,
kk); --json is the same in every language.

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

function iso(tr: Translator, ms: number | undefined): string {
  return ms === undefined ? tr.t('status.never') : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function consentText(tr: Translator, consent: StatusReport['consent']): string {
  if (consent === null) return tr.t('status.consentMissing');
  const values = { version: consent.version, acceptedAt: consent.acceptedAt, current: CONSENT_VERSION, language: consent.language ?? 'en' };
  return tr.t(consent.current ? 'status.consentCurrent' : 'status.consentChanged', values);
}

/** The report as text, in the translator's language (`--json` stays as it is). */
function render(r: StatusReport, tr: Translator): string {
  const c = r.config;
  const out: string[] = [];
  const section = (title: string, rows: string[][]): void => {
    out.push(title, table(rows), '');
  };
  section(tr.t('status.configuration'), [
    [tr.t('status.dataDir'), r.dataDir],
    [tr.t('status.config'), r.configPath],
    [tr.t('status.collectors'), c.collectors.join(', ')],
    [tr.t('status.control'), c.controlUrl],
    [tr.t('status.schedule'), tr.t('status.scheduleValue', { core: c.schedule.coreCron, full: c.schedule.fullCron, timezone: c.schedule.timezone, jitter: c.schedule.maxJitterSeconds })],
    [tr.t('status.testLists'), tr.t('status.testListsValue', { lists: c.lists.join(', '), version: r.testLists.version, origin: r.testLists.origin })],
    [tr.t('status.categories'), tr.t('status.categoriesValue', {
      categories: c.categories.join(', '), all: c.categories.length === 0 ? 'yes' : 'no',
      never: c.excludeCategories.join(', '), hasNever: c.excludeCategories.length > 0 ? 'yes' : 'no',
    })],
    [tr.t('status.limits'), tr.t('status.limitsValue', { concurrency: c.limits.concurrency, seconds: c.limits.perTargetTimeoutMs / 1000, body: formatBytes(c.limits.maxBodyBytes) })],
    ...(c.proxy !== null ? [[tr.t('status.proxy'), c.proxy]] : []),
  ]);
  section(
    tr.t('status.identity'),
    r.identity === null
      ? [[tr.t('status.key'), tr.t('status.keyMissing')]]
      : [[tr.t('status.probeId'), r.identity.probeId], [tr.t('status.fingerprint'), r.identity.fingerprint]],
  );
  section(tr.t('status.consent'), [[tr.t('status.notice'), consentText(tr, r.consent)]]);
  const b = r.budget;
  section(tr.t('status.budget', { month: b.month }), [
    [tr.t('status.used'), b.limitBytes === null
      ? tr.t('status.usedUnlimited', { used: formatBytes(b.usedBytes) })
      : tr.t('status.usedOf', { used: formatBytes(b.usedBytes), limit: formatBytes(b.limitBytes), left: formatBytes(b.remainingBytes ?? 0) })],
    [tr.t('status.resets'), iso(tr, b.resetsAtMs)],
    ...(b.exhausted ? [[tr.t('status.state'), tr.t('status.budgetReached')]] : []),
  ]);
  const o = r.outbox;
  section(
    tr.t('status.outbox'),
    o === null
      ? [[tr.t('status.queued'), tr.t('status.queuedEmpty')], [tr.t('status.lastUpload'), tr.t('status.never')]]
      : [
          [tr.t('status.queued'), tr.t('status.queuedValue', {
            count: o.count, bytes: formatBytes(o.bytes), oldest: o.oldestStartTimeMs !== undefined ? iso(tr, o.oldestStartTimeMs) : '', hasOldest: o.oldestStartTimeMs !== undefined ? 'yes' : 'no',
          })],
          [tr.t('status.lastUpload'), iso(tr, o.lastUploadMs)],
          ...(o.dropped > 0 ? [[tr.t('status.dropped'), tr.t('status.droppedValue', { count: o.dropped, bytes: formatBytes(o.droppedBytes) })]] : []),
          ...(o.quarantined > 0 ? [[tr.t('status.setAside'), tr.t('status.setAsideValue', { count: o.quarantined })]] : []),
        ],
  );
  out.push(tr.t('status.lastRuns'));
  if (r.lastRuns.length === 0) {
    out.push(`  ${tr.t('status.noRuns')}`, '');
  } else {
    out.push(
      table([
        ['started', 'kind', 'outcome', 'measured', 'anomalies', 'moved', 'took'].map((h) => tr.t(`status.runs.${h}`)),
        ...r.lastRuns.map((run) => [
          iso(tr, run.startedAtMs),
          tr.t(`run.kind.${run.kind}`),
          `${tr.t(`run.outcome.${run.outcome}`)}${run.limitedByBudget ? tr.t('status.runs.budgetCoreOnly') : ''}`,
          tr.number(run.measured),
          tr.number(anomalyCount(run.verdicts)),
          formatBytes(run.bytesMoved),
          formatDuration(run.finishedAtMs - run.startedAtMs),
        ]),
      ]),
      '',
    );
  }
  section(
    tr.t('status.reachability'),
    r.collectors.map((x) => [
      x.url,
      tr.t(`status.role.${x.role}`),
      x.reachable
        ? tr.t('status.reachable', { status: x.status ?? '?', ms: x.ms })
        : tr.t('status.unreachable', { error: x.error ?? tr.t('status.noAnswer') }),
    ]),
  );
  return out.join('\n');
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  const timeoutMs = checkOption('--timeout-ms', values['timeout-ms'] ?? '5000', check.integer({ min: 100, max: 120_000 }));
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const report = await gather(dataDir, io, timeoutMs);
  io.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : render(report, probeText(io.env)));
  return EXIT.OK;
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show config, identity, budget, outbox, last runs and collector reachability',
  help: HELP,
  run,
};
