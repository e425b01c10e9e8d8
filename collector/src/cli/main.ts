import { type CliIO, type CommandEntry, processIO, runCli } from '@steppe/shared';
import { SOFTWARE_VERSION } from '../version.js';

// One file per subcommand, loaded only when used.
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: { summary: 'Serve ingest, control, API and dashboard on one port', load: async () => (await import('./commands/serve.js')).serveCommand },
  control: { summary: 'Serve only the control vantage (test helper) endpoint', load: async () => (await import('./commands/control.js')).controlCommand },
  up: { summary: 'Serve with an embedded database and one local probe (npm start)', load: async () => (await import('./commands/up.js')).upCommand },
  'import-ooni': { summary: 'Import OONI web_connectivity measurements (JSONL[.gz])', load: async () => (await import('./commands/import-ooni.js')).importOoniCommand },
  snapshot: { summary: 'Write a signed dataset snapshot for a query', load: async () => (await import('./commands/snapshot.js')).snapshotCommand },
  verify: { summary: 'Verify a downloaded dataset: snapshot or JSON Lines export', load: async () => (await import('./commands/verify.js')).verifyCommand },
};

/** Run the `steppe-collector` CLI; resolves to the exit status. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  return runCli({
    program: 'steppe-collector',
    version: SOFTWARE_VERSION,
    description: 'Steppe collector: ingests signed measurements, finds blocking episodes, serves the API, dashboard and datasets.',
    commands: COMMANDS,
    argv,
    io,
  });
}
