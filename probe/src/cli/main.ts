import { type CliIO, type CommandEntry, EXIT, processIO, runCli, UsageError } from '@steppe/shared';
import { SOFTWARE_VERSION } from '../version.js';
import { resolveLanguageOption, probeText } from './language.js';
import { tuneV8ForProbe } from './v8-tuning.js';

// One file per subcommand, loaded only when used.
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  init: { summary: 'Set up a probe: config, identity, informed consent', load: async () => (await import('./commands/init.js')).initCommand },
  start: { summary: 'Run the probe daemon on its schedule', load: async () => (await import('./commands/start.js')).startCommand },
  run: { summary: 'Run the test lists once now (run --once)', load: async () => (await import('./commands/run.js')).runCommand },
  measure: { summary: 'Measure URLs now and print JSON Lines', load: async () => (await import('./commands/measure.js')).measureCommand },
  status: { summary: 'Show config, identity, outbox and collector status', load: async () => (await import('./commands/status.js')).statusCommand },
};

/**
 * Run the `steppe-probe` CLI; resolves to the exit status. Without `io` this
 * is the probe process itself (the bin): it also tunes V8 for a small
 * footprint (v8-tuning.ts); callers that pass their own `io` (tests, tools
 * embedding the CLI) keep their process as it is. `--lang en|ru|kk` is
 * taken here, for every command (cli/language.ts).
 */
export async function main(argv: readonly string[], io?: CliIO): Promise<number> {
  if (io === undefined) tuneV8ForProbe(argv[0]);
  const given = io ?? processIO();
  let resolved: ReturnType<typeof resolveLanguageOption>;
  try {
    resolved = resolveLanguageOption(argv, given.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    given.stderr.write(`steppe-probe: ${err.message}\n`);
    return EXIT.USAGE;
  }
  return runCli({
    program: 'steppe-probe',
    version: SOFTWARE_VERSION,
    description: 'Steppe probe: measures Internet censorship from this network and sends signed evidence to a collector.\nEvery command takes --lang en|ru|kk (default: $STEPPE_LANG, else the locale, else English).',
    commands: COMMANDS,
    argv: resolved.argv,
    io: { ...given, env: resolved.env },
    // English messages need no explanation above them; the catalog is read only when an error is reported.
    ...(resolved.language === 'en' ? {} : { describeError: (code) => probeText(resolved.env).t(`error.${code}`) }),
  });
}
