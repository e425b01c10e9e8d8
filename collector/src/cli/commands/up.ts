import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import {
  type CliIO,
  type Command,
  EXIT,
  JsonLog,
  check,
  checkOption,
  parseCommandLine,
  publicUnicastNetworks,
} from '@steppe/shared';
import { startCollector } from '../../collector-app.js';
import { DEFAULT_EVENTS_FILE } from '../../timeline/events.js';
import { logCollectorEvent } from '../collector-log.js';
import { redactDbUrl } from '../../store/open-store.js';
import { dbOption, resolverOption, untilAborted } from '../options.js';

const HELP = `Usage: steppe-collector up [options]

The main job of \`npm start\`: a collector with its embedded SQLite database
and one local probe streaming to it, on this machine.

  <data-dir>/collector.db     the collector's database
  <data-dir>/probe/           the local probe (config, key, outbox)

The first time, the probe shows its informed-consent notice (what it
measures, what it sends, what it never sends, the risks) and measures nothing
until you accept it: type "yes" on a terminal, or pass --accept-risks after
reading docs/privacy.md. Without consent the collector and dashboard still
run. The probe then measures the core list right away and every 15 minutes.

Options:
  --data-dir DIR          where everything is kept (default ./data)
  --db FILE|URL           the collector's database instead (default
                          $STEPPE_DB, else <data-dir>/collector.db): a SQLite
                          file or a PostgreSQL URL (postgres://user@host/db)
  --port N                collector port (default 8080; 0: any free port)
  --host H                collector address (default 127.0.0.1)
  --accept-risks          accept the probe's informed-consent notice
  --no-probe              run the collector alone

Stops both cleanly on SIGINT/SIGTERM (Ctrl-C).
Exit status: 0 after a clean stop; 1 the collector could not start; 2 bad options.
`;

const OPTIONS = {
  'data-dir': { type: 'string' },
  db: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'accept-risks': { type: 'boolean' },
  'no-probe': { type: 'boolean' },
} as const;

/** The local probe's CLI, when steppe-probe is installed beside the collector. */
function probeBin(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('steppe-probe/package.json');
    const bin = join(dirname(pkg), 'bin', 'steppe-probe.js');
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

function runToExit(child: ChildProcess): Promise<number> {
  return new Promise((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit(code ?? (signal !== null ? 128 : 1)));
    child.once('error', () => resolveExit(1));
  });
}

/**
 * Keep the probe daemon running: restart it if it dies (with a growing
 * delay), stop it with SIGTERM when asked.
 */
class LocalProbe {
  #child: ChildProcess | undefined;
  #stopping = false;
  #restartDelayMs = 1_000;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly bin: string,
    private readonly dataDir: string,
    private readonly log: JsonLog,
  ) {}

  start(runNow: boolean): void {
    const args = [this.bin, 'start', '--data-dir', this.dataDir, ...(runNow ? ['--run-now'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    this.#child = child;
    void runToExit(child).then((code) => {
      this.#child = undefined;
      if (this.#stopping) return;
      if (code === EXIT.CONSENT || code === EXIT.USAGE) {
        this.log.error('probe_stopped', { exit_code: code, message: 'the local probe cannot run; see its message above' });
        return;
      }
      this.log.warn('probe_exited', { exit_code: code, restart_in_ms: this.#restartDelayMs });
      this.#timer = setTimeout(() => this.start(false), this.#restartDelayMs);
      this.#restartDelayMs = Math.min(this.#restartDelayMs * 2, 60_000);
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const child = this.#child;
    if (child === undefined) return;
    const exited = runToExit(child);
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
  }
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  const dataDir = resolve(values['data-dir'] ?? 'data');
  const port = checkOption('--port', values.port ?? '8080', check.integer({ min: 0, max: 65535 }));
  const host = checkOption('--host', values.host ?? '127.0.0.1', check.ip());
  const db = dbOption(values.db, io.env) ?? join(dataDir, 'collector.db');
  const log = new JsonLog(io.stdout);

  const collector = await startCollector({
    db,
    dataDir,
    host,
    port,
    control: { resolver: resolverOption('--control-resolver', undefined), allowNet: [...publicUnicastNetworks()] },
    eventsFile: DEFAULT_EVENTS_FILE.pathname,
    onLog: (e) => logCollectorEvent(log, e),
  });
  io.stdout.write(`\nSteppe collector is up. Dashboard: ${collector.url}/dashboard\n\n`);
  log.info('listening', { url: collector.url, dashboard: `${collector.url}/dashboard`, data_dir: dataDir, db: redactDbUrl(db) });

  let probe: LocalProbe | undefined;
  const bin = values['no-probe'] === true ? undefined : probeBin();
  if (values['no-probe'] !== true && bin === undefined) {
    log.warn('no_local_probe', { message: 'steppe-probe is not installed beside the collector; serving without a local probe' });
  }
  if (bin !== undefined && !io.signal.aborted) {
    const probeDir = join(dataDir, 'probe');
    // `init --if-missing` keeps an existing config; the first time it shows
    // the consent notice (prompting on a terminal) and records the answer.
    const init = spawn(process.execPath, [
      bin, 'init', '--data-dir', probeDir, '--collector', collector.url, '--if-missing',
      ...(values['accept-risks'] === true ? ['--accept-risks'] : []),
    ], { stdio: 'inherit' });
    const initCode = await runToExit(init);
    if (initCode === EXIT.OK) {
      probe = new LocalProbe(bin, probeDir, log);
      probe.start(true);
      log.info('probe_started', { data_dir: probeDir });
    } else {
      io.stdout.write(
        `\nThe local probe is not running: it needs your informed consent first.\n` +
          `Read docs/privacy.md, then run \`npm start -- --accept-risks\`, or answer the\n` +
          `prompt of \`npx steppe-probe init --data-dir ${probeDir} --collector ${collector.url}\`.\n` +
          `The collector and dashboard keep running.\n\n`,
      );
      log.warn('probe_not_started', { reason: 'consent_required', init_exit_code: initCode });
    }
  }

  await untilAborted(io.signal);
  log.info('stopping');
  await probe?.stop();
  await collector.close();
  log.info('stopped');
  return EXIT.OK;
}

/** `steppe-collector up`: collector plus one local probe (npm start). */
export const upCommand: Command = {
  name: 'up',
  summary: 'Serve with an embedded database and one local probe (npm start)',
  help: HELP,
  run,
};
