import { type CliIO, type CommandEntry, processIO, runCli } from '@steppe/shared';
import { SOFTWARE_VERSION } from '../version.js';

// One file per subcommand, loaded only when used.
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  init: { summary: 'Set up a probe: config, identity, informed consent', load: async () => (await import('./commands/init.js')).initCommand },
  start: { summary: 'Run the probe daemon on its schedule', load: async () => (await import('./commands/start.js')).startCommand },
  run: { summary: 'Run the test lists once now (run --once)', load: async () => (await import('./commands/run.js')).runCommand },
  measure: { summary: 'Measure URLs now and print JSON Lines', load: async () => (await import('./commands/measure.js')).measureCommand },
  status: { summary: 'Show config, identity, outbox and collector status', load: async () => (await import('./commands/status.js')).statusCommand },
};

/** Run the `steppe-probe` CLI; resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  return runCli({
    program: 'steppe-probe',
    version: SOFTWARE_VERSION,
    description: 'Steppe probe: measures Internet censorship from this network and sends signed evidence to a collector.',
    commands: COMMANDS,
    argv,
    io,
  });
}
