import { type CliIO, type Command, checkOption, check, EXIT, parseCommandLine, UsageError } from '@steppe/shared';
import { resolveDataDir } from '../../config/file.js';
import { openProbeContext } from '../../daemon/probe-context.js';
import { executeRun } from '../../daemon/probe-run.js';
import { createProgressView, formatRunSummary } from '../progress.js';
import { probeText } from '../language.js';

const HELP = `Usage: steppe-probe run --once [options]

Run the test lists once now, show progress (a bar on a terminal, one line
per URL otherwise), then a summary: verdict counts and every anomaly by
name. The measurements go to the outbox and are uploaded before exiting (up
to --upload-timeout-ms); what is not acknowledged stays in the outbox for
the next run or the daemon.

Progress and summary are in the language of --lang, $STEPPE_LANG or the
locale (en, ru, kk); verdict names stay English.

Options:
  --once                   run once and exit (required)
  --data-dir DIR           the probe's data directory (as given to init)
  --list core|full         the core list only, or everything the daemon's
                           6-hourly run measures (default: full; core only
                           when the monthly budget is spent)
  --upload-timeout-ms N    wait at most N ms for acknowledgements (default:
                           limits.uploadTimeoutMs of the config, 60000)

Needs a config and the accepted informed-consent notice (steppe-probe init).

Exit status: 0 run completed and everything uploaded; 1 interrupted, or
measurements left in the outbox; 2 bad options or configuration; 3 informed
consent not given.
`;

const OPTIONS = {
  once: { type: 'boolean' },
  'data-dir': { type: 'string' },
  list: { type: 'string' },
  'upload-timeout-ms': { type: 'string' },
} as const;

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  if (values.once !== true) throw new UsageError('run needs --once (the daemon that runs on a schedule is `steppe-probe start`)');
  const kind = checkOption('--list', values.list ?? 'full', check.oneOf(['core', 'full'] as const));
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const uploadTimeout =
    values['upload-timeout-ms'] !== undefined ? checkOption('--upload-timeout-ms', values['upload-timeout-ms'], check.integer({ min: 0, max: 3_600_000 })) : undefined;

  const tr = probeText(io.env);
  const ctx = openProbeContext(dataDir, { env: io.env });
  try {
    ctx.outbox.on('dropped', (e) => io.stderr.write(`steppe-probe: ${tr.t('run.outboxDropped', { reason: e.reason, count: e.count })}\n`));
    ctx.uplink.start();
    const view = createProgressView(io.stderr, tr);
    if (ctx.budget.exhausted() && kind === 'full') {
      io.stderr.write(`steppe-probe: ${tr.t('run.budgetReached')}\n`);
    }
    const record = await executeRun(kind, 'manual', ctx.runDeps({ onProgress: (p) => view.update(p) }), io.signal);
    view.finish();
    ctx.history.add(record);
    io.stdout.write(formatRunSummary(record, tr));

    const timeoutMs = uploadTimeout ?? ctx.config.limits.uploadTimeoutMs;
    const flushed = await ctx.uplink.flush({ timeoutMs, signal: io.signal });
    io.stdout.write(`${tr.t(flushed.pending === 0 ? 'run.uploaded' : 'run.uploadPartial', { acked: flushed.acked, pending: flushed.pending })}\n`);
    if (record.outcome === 'failed') return EXIT.FAILED;
    return record.outcome === 'aborted' || flushed.pending > 0 ? EXIT.FAILED : EXIT.OK;
  } finally {
    await ctx.close();
  }
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the test lists once now (run --once)',
  help: HELP,
  run,
};
