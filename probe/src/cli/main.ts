import { type CliIO, type CommandEntry, processIO, runCli } from '@steppe/shared';
import { SOFTWARE_VERSION } from '../version.js';
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
 * embedding the CLI) keep their process as it is.
 */
export async function main(argv: readonly string[], io?: CliIO): Promise<number> {
  if (io === undefined) tuneV8ForProbe(argv[0]);
  return runCli({
    program: 'steppe-probe',
    version: SOFTWARE_VERSION,
    description: 'Steppe probe: measures Internet censorship from this network and sends signed evidence to a collector.',
    commands: COMMANDS,
    argv,
    io: io ?? processIO(),
  });
}
