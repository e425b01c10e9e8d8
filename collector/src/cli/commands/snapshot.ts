import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type CliIO, type Command, EXIT, UsageError, parseCommandLine, systemClock } from '@steppe/shared';
import { COLLECTOR_KEY_FILE, loadOrCreateCollectorKey } from '../../export/collector-key.js';
import { ExportQueryError, parseExportQuery } from '../../export/query.js';
import { describeSnapshot, writeSnapshot } from '../../export/snapshot.js';
import { openStore, storeEngineOf } from '../../store/open-store.js';
import { dbOption } from '../options.js';

const HELP = `Usage: steppe-collector snapshot --db FILE|URL --out DIR [filters] [options]

Write a signed dataset snapshot of the measurements matching the filters:
measurements.jsonl.gz (Steppe's schema, with each measurement's proof),
measurements.csv.gz (the queryable columns) and measurements.ooni.jsonl.gz
(OONI's data format), plus manifest.json (query, row counts, time range,
versions, size and SHA-256 of each file) and manifest.sig (the collector's
ed25519 signature over manifest.json). Check it with
\`steppe-collector verify DIR\`.

Filters (as GET /api/v1/measurements; lists are comma-separated or repeated):
  --since DATE              start time >= DATE (2020-12-06 or 2020-12-06T10:02:00Z;
                            UTC unless an offset is given)
  --until DATE              start time < DATE
  --probe-asn AS            e.g. AS9198
  --probe-cc CC             e.g. KZ
  --domain NAME             e.g. www.youtube.com
  --input URL               exact URL (repeat for several)
  --category-code CODE      e.g. GRP,NEWS
  --test-name NAME          e.g. web_connectivity
  --verdict VERDICT         e.g. dns,tcp_ip,interception
  --anomaly true|false
  --confirmed true|false
  --failure F               true, false, or failure strings (connection_reset,...)
  --source steppe|ooni
  --received-before DATE    only what the collector had received by DATE
                            (default: now; written into the manifest so the
                            query can be rerun exactly)

Options:
  --db FILE|URL             the collector's database: a SQLite file or a
                            PostgreSQL URL (postgres://user@host/db; default
                            $STEPPE_DB)
  --out DIR                 the snapshot directory to create (required; must
                            not exist, or be empty)
  --key FILE                the collector's signing key, PKCS#8 PEM, created
                            with mode 0600 if missing (default:
                            ${COLLECTOR_KEY_FILE} beside the database file;
                            required with a PostgreSQL URL)
  --uncompressed            write plain files instead of gzip

Exit status: 0 written; 1 failed; 2 bad options.
`;

const FILTER_OPTIONS = [
  'since', 'until', 'probe-asn', 'probe-cc', 'domain', 'input', 'category-code', 'test-name', 'verdict',
  'anomaly', 'confirmed', 'failure', 'source', 'received-before',
] as const;

const OPTIONS = {
  db: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string' },
  uncompressed: { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  'probe-asn': { type: 'string', multiple: true },
  'probe-cc': { type: 'string', multiple: true },
  domain: { type: 'string', multiple: true },
  input: { type: 'string', multiple: true },
  'category-code': { type: 'string', multiple: true },
  'test-name': { type: 'string', multiple: true },
  verdict: { type: 'string', multiple: true },
  anomaly: { type: 'string' },
  confirmed: { type: 'string' },
  failure: { type: 'string', multiple: true },
  source: { type: 'string', multiple: true },
  'received-before': { type: 'string' },
} as const;

/** The filter options of a command line as query parameters (`--probe-asn` → `probe_asn`). */
export function filterParams(values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>): URLSearchParams {
  const params = new URLSearchParams();
  for (const option of FILTER_OPTIONS) {
    const value = values[option];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(option.replace(/-/g, '_'), String(v));
  }
  return params;
}

async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const db = dbOption(values.db, io.env);
  if (db === undefined) throw new UsageError('option --db is required (or set $STEPPE_DB)');
  if (values.out === undefined) throw new UsageError('option --out is required');
  const isFile = storeEngineOf(db) === 'sqlite';
  if (isFile && !existsSync(db)) throw new UsageError(`option --db: no database at ${db}`);
  if (!isFile && values.key === undefined) throw new UsageError('option --key is required with a PostgreSQL --db');
  let query;
  try {
    query = parseExportQuery(filterParams(values), { naming: 'option' });
  } catch (err) {
    if (err instanceof ExportQueryError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  const key = loadOrCreateCollectorKey(resolve(values.key ?? join(dirname(db), COLLECTOR_KEY_FILE)));
  if (key.created) io.stderr.write(`created the collector signing key ${key.path} (mode 0600)\n`);
  if (key.looseMode) io.stderr.write(`warning: ${key.path} is readable by other users; it should be mode 0600\n`);
  const store = await openStore(db);
  try {
    const result = await writeSnapshot({
      source: store,
      query,
      dir: resolve(values.out),
      keys: key.keys,
      clock: systemClock,
      gzip: values.uncompressed !== true,
      signal: io.signal,
    });
    io.stdout.write(`${describeSnapshot(result)}\n`);
    for (const f of result.manifest.files) io.stdout.write(`  ${f.name}  ${f.rows} rows  ${f.bytes} bytes  sha256 ${f.sha256}\n`);
    io.stdout.write(`verify with: steppe-collector verify ${resolve(values.out)} --public-key ${result.manifest.collector.public_key}\n`);
    return EXIT.OK;
  } finally {
    await store.close();
  }
}

/** `steppe-collector snapshot`. */
export const snapshotCommand: Command = {
  name: 'snapshot',
  summary: 'Write a signed dataset snapshot for a query',
  help: HELP,
  run,
};
