#!/usr/bin/env node
// `npm run demo`: replay 6 December 2020 in the censorship lab (docs/demo.md).
// The entry point only parses options and prints; the demo itself is
// test/lab/demo/src (built to dist/ by `npm run build`).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HELP = `Usage: npm run demo [-- options]
       node test/lab/demo/run-demo.mjs [options]

Replays 6 December 2020 ("Cyber Security Nur-Sultan 2020") in the censorship
lab, offline, on a simulated clock: probes in three simulated Kazakh networks
measure the core list every round while the lab's censor blocks Facebook,
Instagram and YouTube differently per network, shuts one network down and
cuts one probe off from the collector. Everything flows through the real
outboxes and uplinks into a real collector, which must find the episodes.
Prints them against the script, then keeps the collector running (dashboard)
until Ctrl-C. Only loopback addresses are used.

Options:
  --data-dir DIR     where the collector's database and the probes' data go
                     (default ./demo-data; its collector/, probes/ and
                     networks.json are replaced)
  --port N           collector port (default: any free port)
  --interval MIN     minutes of simulated time between rounds (default: the
                     scenario's, 15)
  --from HH:MM       replay only from this local (Almaty) time
  --to HH:MM         ... until this one (e.g. --from 06:00 --to 15:00)
  --exit             stop after printing the results (no dashboard wait)
  -h, --help         this text

Exit status: 0 when every scripted episode was found and nothing was lost,
1 otherwise, 2 on bad options.
`;

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const REPO = here('../../../');

let values;
try {
  ({ values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      interval: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      exit: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (err) {
  process.stderr.write(`run-demo: ${err.message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`run-demo: option --port: expected a port from 0 to 65535, got ${JSON.stringify(values.port)}\n`);
  process.exit(2);
}
const interval = values.interval === undefined ? undefined : Number(values.interval);
if (interval !== undefined && (!Number.isInteger(interval) || interval < 1 || interval > 240)) {
  process.stderr.write(`run-demo: option --interval: expected minutes from 1 to 240, got ${JSON.stringify(values.interval)}\n`);
  process.exit(2);
}

for (const built of ['dist/index.js', '../dist/index.js']) {
  if (!existsSync(here(built))) {
    process.stderr.write(`run-demo: ${here(built)} is missing; build first with \`npm run build\` (npm run demo does)\n`);
    process.exit(1);
  }
}
const { startLab, LAB_NETWORKS } = await import('../dist/index.js');
const demo = await import('./dist/index.js');

const write = (lines) => process.stdout.write(lines.map((l) => `${l}\n`).join(''));
const networks = LAB_NETWORKS.map((n) => n.id);
let scenario;
try {
  scenario = demo.loadScenario(networks);
  if (interval !== undefined || values.from !== undefined || values.to !== undefined) {
    scenario = demo.shortenScenario(scenario, {
      ...(values.from !== undefined ? { from: values.from } : {}),
      ...(values.to !== undefined ? { to: values.to } : {}),
      ...(interval !== undefined ? { intervalMinutes: interval } : {}),
    });
  }
} catch (err) {
  process.stderr.write(`run-demo: ${err.message}\n`);
  process.exit(2);
}

const stop = new AbortController();
const onSignal = () => stop.abort(new Error('interrupted'));
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

write([`Steppe demo — ${scenario.title}, replayed in the censorship lab (offline, simulated clock)`, '']);
let run;
try {
  run = await demo.runDemo({
    scenario,
    startLab,
    dataDir: resolve(values['data-dir'] ?? resolve(REPO, 'demo-data')),
    port,
    signal: stop.signal,
    onEvent: (event) => write(demo.formatEvent(scenario, event)),
  });
} catch (err) {
  process.stderr.write(`run-demo: ${stop.signal.aborted ? 'stopped' : `failed: ${err.stack ?? err}`}\n`);
  process.exit(1);
}
write(demo.formatResult(run));
const good = run.result.allMatch && run.result.measurements.stored === run.result.measurements.expected && run.result.measurements.dropped === 0;
if (values.exit || stop.signal.aborted) {
  await run.close();
  process.exit(good ? 0 : 1);
}
write(['', 'The collector keeps running for exploring; press Ctrl-C to stop it.']);
await new Promise((resolveStop) => {
  if (stop.signal.aborted) resolveStop();
  stop.signal.addEventListener('abort', resolveStop, { once: true });
});
await run.close();
write(['Stopped. The database stays in place for later: see docs/demo.md.']);
process.exit(good ? 0 : 1);
