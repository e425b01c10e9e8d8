import { dirname, resolve } from 'node:path';
import {
  type CliIO,
  type Command,
  EXIT,
  JsonLog,
  UsageError,
  check,
  checkOption,
  parseCommandLine,
  publicUnicastNetworks,
} from '@steppe/shared';
import { type CollectorOptions, startCollector } from '../../collector-app.js';
import { type Enrollment, loadEnrollmentTokens } from '../../ingest/index.js';
import { DEFAULT_EVENTS_FILE } from '../../timeline/events.js';
import { logCollectorEvent } from '../collector-log.js';
import { redactDbUrl, storeEngineOf } from '../../store/open-store.js';
import { dbOption, readPemOption, readSecretOption, resolverOption, untilAborted } from '../options.js';

const HELP = `Usage: steppe-collector serve --db FILE|URL --port N [options]

Serve everything on one port: the probes' WebSocket stream (/api/v1/ingest),
the control vantage (POST /api/v1/control), the public API, exports and
signed snapshots, test lists, the dashboard (/dashboard) and /metrics.
Logs are JSON, one object per line on stdout. A probe's address is used
only to derive its network (ASN, country) and is never stored or logged.

Options:
  --db FILE|URL                 SQLite database file (created if missing), or
                                a PostgreSQL URL: postgres://user@host:5432/db,
                                postgres:///db?host=/var/run/postgresql
                                (default: $STEPPE_DB)
  --port N                      TCP port (0: any free port)
  --host H                      address to listen on (default 127.0.0.1)
  --data-dir DIR                collector key, ASN index cache, snapshots
                                (default: the database file's folder;
                                required with a PostgreSQL URL)
  --public-url URL              base URL cited in charts and exports
  --control-resolver IP:PORT    the control's DNS resolver (default: the first
                                nameserver of /etc/resolv.conf)
  --control-local-address IP    bind every socket the control opens
  --allow-net CIDRS             networks the control may reach (default: every
                                public unicast address)
  --ca-file PEM                 extra roots the control trusts (the lab)
  --networks FILE               CIDR → ASN, country, name map (JSON or CSV),
                                consulted before the IP databases
  --no-geo-databases            use only --networks (unknown: AS0/ZZ)
  --trusted-proxies CIDRS       reverse proxies whose X-Forwarded-For is used
  --enrollment MODE             open (trust on first use, default) or token
  --enrollment-tokens FILE      one token per line (with --enrollment token)
  --admin-token-file FILE       token for POST/PUT/DELETE /api/v1/events (or
                                $STEPPE_ADMIN_TOKEN); admin routes are off
                                without one
  --events FILE                 events to seed (default: the bundled list,
                                with "Cyber Security Nur-Sultan 2020")
  --test-lists FILE             a test-list bundle to offer probes (docs/cli.md)
  --export-workers N            worker threads that write JSON Lines exports
                                (0-64, default 0: the main thread; pays with
                                more than 2 cores, bench/export/RESULTS.md)

Stops cleanly on SIGINT/SIGTERM: batches in flight are committed and acked.
Exit status: 0 after a clean stop; 1 the database or a file could not be
used; 2 bad options.
`;

const OPTIONS = {
  db: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  'public-url': { type: 'string' },
  'control-resolver': { type: 'string' },
  'control-local-address': { type: 'string' },
  'allow-net': { type: 'string' },
  'ca-file': { type: 'string' },
  networks: { type: 'string' },
  'no-geo-databases': { type: 'boolean' },
  'trusted-proxies': { type: 'string' },
  enrollment: { type: 'string' },
  'enrollment-tokens': { type: 'string' },
  'admin-token-file': { type: 'string' },
  events: { type: 'string' },
  'test-lists': { type: 'string' },
  'export-workers': { type: 'string' },
} as const;

type ServeValues = ReturnType<typeof parseCommandLine<typeof OPTIONS>>['values'];

function enrollmentOption(values: ServeValues): Enrollment | undefined {
  const mode = checkOption('--enrollment', values.enrollment ?? 'open', check.oneOf(['open', 'token'] as const));
  if (mode === 'open') {
    if (values['enrollment-tokens'] !== undefined) throw new UsageError('option --enrollment-tokens needs --enrollment token');
    return { mode: 'open' };
  }
  if (values['enrollment-tokens'] === undefined) throw new UsageError('option --enrollment token needs --enrollment-tokens FILE');
  try {
    return { mode: 'token', tokens: loadEnrollmentTokens(values['enrollment-tokens']) };
  } catch (cause) {
    throw new UsageError(`option --enrollment-tokens: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Turn `serve` options into collector options (shared with `up`). */
export function collectorOptionsFrom(values: ServeValues, io: CliIO): CollectorOptions {
  const db = dbOption(values.db, io.env);
  if (db === undefined) throw new UsageError('option --db is required (or set $STEPPE_DB)');
  if (values.port === undefined) throw new UsageError('option --port is required');
  const dataDir = values['data-dir'];
  if (dataDir === undefined && storeEngineOf(db) === 'postgresql') throw new UsageError('option --data-dir is required with a PostgreSQL --db');
  const adminTokenFile = values['admin-token-file'];
  const envToken = io.env['STEPPE_ADMIN_TOKEN'];
  let adminToken: string | undefined;
  if (adminTokenFile !== undefined) adminToken = readSecretOption('--admin-token-file', adminTokenFile);
  else if (envToken !== undefined && envToken !== '') adminToken = checkOption('$STEPPE_ADMIN_TOKEN', envToken, check.string({ min: 16, max: 512, describe: 'a token of 16 to 512 characters' }));
  const enrollment = enrollmentOption(values);
  const localAddress = values['control-local-address'];
  return {
    db,
    dataDir: resolve(dataDir ?? dirname(db)),
    host: checkOption('--host', values.host ?? '127.0.0.1', check.ip()),
    port: checkOption('--port', values.port, check.integer({ min: 0, max: 65535 })),
    ...(values['public-url'] !== undefined ? { publicUrl: checkOption('--public-url', values['public-url'], check.url({ protocols: ['http:', 'https:'] })) } : {}),
    control: {
      resolver: resolverOption('--control-resolver', values['control-resolver']),
      ...(localAddress !== undefined ? { localAddress: checkOption('--control-local-address', localAddress, check.ip()) } : {}),
      allowNet: values['allow-net'] !== undefined ? checkOption('--allow-net', values['allow-net'], check.cidrList()) : [...publicUnicastNetworks()],
      ...(values['ca-file'] !== undefined ? { extraCa: readPemOption('--ca-file', values['ca-file']) } : {}),
    },
    ...(values.networks !== undefined ? { networksFile: values.networks } : {}),
    geoDatabases: values['no-geo-databases'] !== true,
    ...(values['trusted-proxies'] !== undefined ? { trustedProxies: checkOption('--trusted-proxies', values['trusted-proxies'], check.cidrList()) } : {}),
    ...(enrollment !== undefined ? { enrollment } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    eventsFile: values.events ?? DEFAULT_EVENTS_FILE.pathname,
    ...(values['test-lists'] !== undefined ? { testListBundle: values['test-lists'] } : {}),
    ...(values['export-workers'] !== undefined ? { exportWorkers: checkOption('--export-workers', values['export-workers'], check.integer({ min: 0, max: 64 })) } : {}),
  };
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandLine(args, OPTIONS);
  const options = collectorOptionsFrom(values, io);
  const log = new JsonLog(io.stdout);
  const collector = await startCollector({ ...options, onLog: (e) => logCollectorEvent(log, e) });
  log.info('listening', { url: collector.url, dashboard: `${collector.url}/dashboard`, db: redactDbUrl(options.db) });
  await untilAborted(io.signal);
  log.info('stopping');
  await collector.close();
  log.info('stopped');
  return EXIT.OK;
}

/** `steppe-collector serve`. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve ingest, control, API and dashboard on one port',
  help: HELP,
  run,
};

export { OPTIONS as SERVE_OPTIONS, HELP as SERVE_HELP };
