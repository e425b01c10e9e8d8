import { type CliIO, type Command, checkOption, check, EXIT, parseCommandLine } from '@steppe/shared';
import { resolveDataDir } from '../../config/file.js';
import { ProbeDaemon } from '../../daemon/daemon.js';
import { errorText, JsonLog, LOG_LEVELS } from '@steppe/shared';
import { followTestListUpdates } from '../../daemon/list-updater.js';
import { openProbeContext } from '../../daemon/probe-context.js';
import { executeRun } from '../../daemon/probe-run.js';
import { NodeCronScheduler } from '../../schedule/scheduler.js';
import { probeText } from '../language.js';
import { logDescriber } from '../log-text.js';

const HELP = `Usage: steppe-probe start [options]

Run the probe daemon: measure the core list on its schedule (default every
15 minutes) and everything (core, Kazakhstan and global lists) every 6 hours,
each run after a random delay so probes don't all fire at once; runs never
overlap (a run due while one is going is skipped and logged). Measurements
are committed to the outbox and streamed to the collector; offline, they wait
there. Logs are JSON, one object per line on stdout; each line's "msg" says
what happened in the language of --lang, $STEPPE_LANG or the locale (en,
ru, kk), while event and field names stay English.

SIGTERM or SIGINT stops it cleanly: no new runs, the running one finishes or
is abandoned (what was measured stays in the outbox), one last upload, exit.

Options:
  --data-dir DIR       the probe's data directory (as given to init)
  --run-now            also start a core run right away (after the random delay)
  --log-level LEVEL    debug, info (default), warn or error

Needs a config and the accepted informed-consent notice (steppe-probe init).

Exit status: 0 stopped by a signal; 2 bad options or configuration;
3 informed consent not given.
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  'run-now': { type: 'boolean' },
  'log-level': { type: 'string' },
} as const;

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  const level = checkOption('--log-level', values['log-level'] ?? 'info', check.oneOf(LOG_LEVELS));
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const ctx = openProbeContext(dataDir, { env: io.env });
  const log = new JsonLog(io.stdout, { level, scrubForms: () => ctx.addresses.scrubForms(), describe: logDescriber(probeText(io.env)) });
  const { config } = ctx;
  if (ctx.repairedModes.length > 0) log.info('data_dir_modes_repaired', { paths: ctx.repairedModes });
  ctx.outbox.on('dropped', (e) => log.warn('outbox_dropped', { count: e.count, bytes: e.bytes, reason: e.reason }));
  ctx.uplink.on('connected', (e) => log.info('uplink_connected', { collector: e.url, collector_id: e.collectorId }));
  // A failed connection attempt is reported once by 'error'; a lost session is worth an info line.
  ctx.uplink.on('disconnected', (e) => log.log(e.welcomed ? 'info' : 'debug', 'uplink_disconnected', { collector: e.url, code: e.code, error: e.message }));
  ctx.uplink.on('retrying', (e) => log.debug('uplink_retrying', { in_ms: e.inMs, attempt: e.attempt }));
  ctx.uplink.on('acked', (e) => log.debug('uplink_acked', { collector: e.url, sequence: e.sequence, stored: e.stored, duplicates: e.duplicates }));
  ctx.uplink.on('error', (e) => log.warn('uplink_error', { collector: e.url, code: e.code, error: e.message }));
  ctx.uplink.on('dropped', (e) => log.warn('uplink_dropped', { count: e.count, reason: e.reason }));

  const stopListUpdates = followTestListUpdates({ ...ctx, charge: (bytes) => ctx.budget.add(bytes) }, log, io.signal);
  const daemon = new ProbeDaemon({
    schedule: config.schedule,
    scheduler: new NodeCronScheduler(),
    run: (kind, signal) => executeRun(kind, 'schedule', ctx.runDeps(), signal),
    history: ctx.history,
    log,
    uplink: ctx.uplink,
  });
  const budget = ctx.budget.usage();
  log.info('probe_started', {
    probe_id: ctx.identity.probeId,
    fingerprint: ctx.identity.fingerprint,
    data_dir: ctx.dataDir,
    collectors: config.collectors,
    test_list_version: ctx.lists.currentVersion(),
    budget_used_bytes: budget.usedBytes,
    budget_limit_bytes: budget.limitBytes,
    budget_reached: budget.exhausted,
  });
  try {
    daemon.start();
    if (values['run-now'] === true) daemon.trigger('core');
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info('signal_received', {});
    await daemon.stop();
  } catch (err) {
    log.error('daemon_failed', { error: errorText(err) });
    throw err;
  } finally {
    stopListUpdates();
    await ctx.close();
  }
  return EXIT.OK;
}

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the probe daemon on its schedule',
  help: HELP,
  run,
};
