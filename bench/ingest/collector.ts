import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

// The collector under benchmark, in its own process: http.Server + attachIngest
// + the store --db names (openStore: a SQLite file, its commits on the writer
// thread, or a PostgreSQL URL). Prints "LISTENING <port>"; answers "stats" on IPC with its
// peak RSS and CPU time; exits on "stop" (a --cpu-prof profile is written
// then). Usage: spawned by run.ts / ../connections/run.ts.
type Ingest = typeof import('../../collector/src/ingest/index.js');
type Store = typeof import('../../collector/src/store/open-store.js');
const root = new URL('../../../../', import.meta.url);
const { attachIngest } = (await import(new URL('collector/dist/ingest/index.js', root).href)) as Ingest;
const { openStore } = (await import(new URL('collector/dist/store/open-store.js', root).href)) as Store;

const { values } = parseArgs({ options: {
  db: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' }, 'group-max': { type: 'string' }, 'group-measurements': { type: 'string' },
  deflate: { type: 'boolean', default: true }, 'no-deflate': { type: 'boolean', default: false },
} });
const store = await openStore(values.db ?? ':memory:');
const server = createServer((_req, res) => res.writeHead(404).end());
const ingest = attachIngest(server, {
  store,
  groupCommit: {
    ...(values['group-max'] === undefined ? {} : { maxBatches: Number(values['group-max']) }),
    ...(values['group-measurements'] === undefined ? {} : { maxMeasurements: Number(values['group-measurements']) }),
  },
  perMessageDeflate: !values['no-deflate'],
  limits: { maxBatchesPerSecond: 1000, maxInFlight: 16 },
  maxConnections: 100_000,
  pingIntervalMs: 60_000,
  handshakeTimeoutMs: 60_000,
});
server.maxConnections = 100_000;
server.listen(0, values.host, () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});
const cpu0 = process.cpuUsage();
process.on('SIGINT', () => process.exit(0));
process.on('message', (m) => {
  if (m === 'stats') {
    const cpu = process.cpuUsage(cpu0);
    process.send?.({ maxRssKiB: process.resourceUsage().maxRSS, rssBytes: process.memoryUsage().rss, cpuUserUs: cpu.user, cpuSystemUs: cpu.system, ...ingest.stats() });
  }
  if (m === 'stop') {
    void ingest.close().then(async () => {
      server.closeAllConnections();
      server.close();
      await store.close();
      process.exit(0);
    });
  }
});
