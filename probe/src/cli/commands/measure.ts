import { createHash } from 'node:crypto';
import { createWriteStream, openSync, readFileSync, type WriteStream } from 'node:fs';
import { isIP } from 'node:net';
import { basename } from 'node:path';
import {
  type Check,
  type CliIO,
  type Command,
  EXIT,
  type Measurement,
  UsageError,
  check,
  checkOption,
  generateSigningKeyPair,
  isBogon,
  measurementToJson,
  parseCommandLine,
  probeIdFromPublicKey,
  publicUnicastNetworks,
  systemResolver,
} from '@steppe/shared';
import { ENGINE_DEFAULTS, type EngineOptions, type Target, measureTargets, targetProblem } from '../../experiments/index.js';
import { loadOrCreateIdentity } from '../../identity/index.js';
import { PublicAddressSet, scrubMeasurement } from '../../privacy/index.js';
import { parseTestList } from '@steppe/shared';

const HELP = `Usage: steppe-probe measure [URL ...] [options]

Measure URLs now with the web_connectivity test and print one JSON object per
URL (JSON Lines): input, verdict, anomaly, confirmed, failure, the control's
view and every observation (DNS, TCP, TLS, HTTP) timestamped from the start.

Targets:
  URL ...                  http:// or https:// URLs to measure
  --targets FILE.csv       a Citizen Lab test list (url,category_code,...)

Network:
  --resolver IP:PORT       DNS resolver asked over UDP (default: the first
                           nameserver of /etc/resolv.conf): the system
                           resolver, whose answers the verdict judges
  --third-party-resolver IP:PORT[,IP:PORT...]
                           also ask these resolvers (over UDP), recorded as
                           third-party: whether they circumvent DNS blocking
                           (their addresses are used when --resolver has none)
  --control BASE_URL       collector base URL of the control vantage
                           (POST BASE_URL/api/v1/control); none by default,
                           and then no verdict can tell blocking from an outage
  --allow-net CIDRS        the only networks any socket may reach, e.g.
                           127.0.0.0/8,::1/128 (default: every public unicast
                           address, no private, loopback or reserved range)
  --local-address IP       bind every outgoing socket (DNS, TCP, TLS, HTTP,
                           control) to this source address
  --control-sni NAME       benign SNI of the control TLS handshake (default
                           ${ENGINE_DEFAULTS.controlSni}); never resolved
  --ca-file PEM            trust these roots too (Mozilla's stay trusted)
  --interception-roots PEM add roots to the known TLS-interception list
  --lab-addresses CIDRS    lab switch: treat these ranges as ordinary public
                           addresses in the verdict (never in production)

Run:
  --concurrency N          targets measured at once (default ${ENGINE_DEFAULTS.concurrency})
  --timeout-ms N           budget per target, all steps (default ${ENGINE_DEFAULTS.perTargetTimeoutMs})
  --out FILE|-             write JSON Lines to FILE (default - : stdout)

Upload:
  --collector URL[,URL...] also queue the measurements in the outbox and send
                           them to these collectors (needs --data-dir)
  --data-dir DIR           the probe's data directory (identity, outbox)
  --upload-timeout-ms N    give up waiting for acks after N ms (default 30000);
                           what is not acknowledged stays in the outbox

Exit status: 0 every URL was measured (whatever the verdicts); 1 interrupted,
or measurements left unacknowledged in the outbox; 2 bad arguments.
`;

const OPTIONS = {
  targets: { type: 'string' },
  resolver: { type: 'string' },
  'third-party-resolver': { type: 'string' },
  control: { type: 'string' },
  'allow-net': { type: 'string' },
  concurrency: { type: 'string' },
  'timeout-ms': { type: 'string' },
  'ca-file': { type: 'string' },
  'interception-roots': { type: 'string' },
  'local-address': { type: 'string' },
  'control-sni': { type: 'string' },
  'lab-addresses': { type: 'string' },
  out: { type: 'string' },
  collector: { type: 'string' },
  'data-dir': { type: 'string' },
  'upload-timeout-ms': { type: 'string' },
} as const;

const HOST_NAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.?$/i;

/** A DNS host name (an SNI cannot be an IP literal, RFC 6066 §3). */
function hostName(): Check<string> {
  const inner = check.string({ min: 1, max: 253, pattern: HOST_NAME, describe: 'a host name such as example.org (not an IP address)' });
  return (value, field) => {
    const name = inner(value, field);
    if (isIP(name) !== 0 || /^[\d.]+$/.test(name)) return inner('', field);
    return name;
  };
}

/** PEM certificates of a file named by `option`; a UsageError naming it otherwise. */
function readPemFile(option: string, path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UsageError(`option --${option}: cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError(`option --${option}: ${path} holds no PEM certificate`);
  return blocks.map((b) => `${b}\n`);
}

function readTargets(path: string, stderr: NodeJS.WritableStream): Target[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UsageError(`option --targets: cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const name = basename(path).replace(/\.csv$/i, '');
  const list = parseTestList(text, name);
  for (const p of list.problems) stderr.write(`steppe-probe measure: --targets ${path} line ${p.line}: ${p.message} (skipped)\n`);
  if (list.entries.length === 0) throw new UsageError(`option --targets: ${path} has no usable row (expected a Citizen Lab CSV: url,category_code,...)`);
  // The list's content digest is its version: the same file always gives the same one.
  const version = `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return list.entries.map((e) => ({ url: e.url, categoryCode: e.categoryCode, testList: name, testListVersion: version }));
}

interface ParsedMeasureArgs {
  readonly targets: Target[];
  readonly engine: EngineOptions;
  readonly out: string;
  readonly collectors: string[];
  readonly dataDir: string | undefined;
  readonly uploadTimeoutMs: number;
}

function parseArguments(args: string[], io: CliIO): ParsedMeasureArgs {
  const { values, positionals } = parseCommandLine(args, OPTIONS, true);
  const targets: Target[] = positionals.map((url) => {
    const problem = targetProblem(url);
    if (problem !== undefined) throw new UsageError(`argument URL: ${problem}`);
    return { url };
  });
  if (values.targets !== undefined) targets.push(...readTargets(values.targets, io.stderr));
  if (targets.length === 0) throw new UsageError('give at least one URL or --targets FILE.csv');

  const resolver = values.resolver !== undefined ? checkOption('--resolver', values.resolver, check.ipPort()) : systemResolverOrUsage();
  const thirdPartyResolvers = values['third-party-resolver'] !== undefined
    ? values['third-party-resolver'].split(',').map((r, i) => checkOption(`--third-party-resolver[${i}]`, r.trim(), check.ipPort()))
    : [];
  const controlUrl = values.control !== undefined ? checkOption('--control', values.control, check.url({ protocols: ['http:', 'https:'] })) : undefined;
  const allowNet = values['allow-net'] !== undefined ? checkOption('--allow-net', values['allow-net'], check.cidrList()) : [...publicUnicastNetworks()];
  const concurrency = checkOption('--concurrency', values.concurrency ?? String(ENGINE_DEFAULTS.concurrency), check.integer({ min: 1, max: 64 }));
  const perTargetTimeoutMs = checkOption('--timeout-ms', values['timeout-ms'] ?? String(ENGINE_DEFAULTS.perTargetTimeoutMs), check.integer({ min: 100, max: 600_000 }));
  const localAddress = values['local-address'] !== undefined ? checkOption('--local-address', values['local-address'], check.ip()) : undefined;
  const controlSni = checkOption('--control-sni', values['control-sni'] ?? ENGINE_DEFAULTS.controlSni, hostName());
  const labAddresses = values['lab-addresses'] !== undefined ? checkOption('--lab-addresses', values['lab-addresses'], check.cidrList()) : undefined;
  const extraCaPem = values['ca-file'] !== undefined ? readPemFile('ca-file', values['ca-file']) : undefined;
  const interceptionRootsPem = values['interception-roots'] !== undefined ? readPemFile('interception-roots', values['interception-roots']) : undefined;
  const collectors = values.collector !== undefined
    ? values.collector.split(',').map((u, i) => checkOption(`--collector[${i}]`, u.trim(), check.url({ protocols: ['http:', 'https:', 'ws:', 'wss:'] })))
    : [];
  const dataDir = values['data-dir'] !== undefined ? checkOption('--data-dir', values['data-dir'], check.string({ min: 1, max: 4096, describe: 'a directory path' })) : undefined;
  if (collectors.length > 0 && dataDir === undefined) throw new UsageError('option --collector needs --data-dir DIR (the outbox and the probe identity live there)');
  const uploadTimeoutMs = checkOption('--upload-timeout-ms', values['upload-timeout-ms'] ?? '30000', check.integer({ min: 100, max: 3_600_000 }));
  const out = values.out ?? '-';
  if (out === '') throw new UsageError('option --out: expected a file path or -');

  // With a data directory the probe's own identity signs; otherwise a key
  // pair made for this run only, never written anywhere.
  const probeId = dataDir !== undefined ? loadOrCreateIdentity(dataDir).probeId : probeIdFromPublicKey(generateSigningKeyPair().publicKey);
  const engine: EngineOptions = {
    probeId,
    resolver,
    allowNet,
    controlSni,
    perTargetTimeoutMs,
    maxBodyBytes: ENGINE_DEFAULTS.maxBodyBytes,
    concurrency,
    ...(controlUrl !== undefined ? { controlUrl } : {}),
    ...(thirdPartyResolvers.length > 0 ? { thirdPartyResolvers } : {}),
    ...(localAddress !== undefined ? { localAddress } : {}),
    ...(extraCaPem !== undefined ? { extraCaPem } : {}),
    ...(interceptionRootsPem !== undefined ? { interceptionRootsPem } : {}),
    ...(labAddresses !== undefined ? { labAddresses } : {}),
  };
  return { targets, engine, out, collectors, dataDir, uploadTimeoutMs };
}

function systemResolverOrUsage(): { host: string; port: number } {
  try {
    return systemResolver();
  } catch (cause) {
    throw new UsageError(`option --resolver: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseArguments(args, io);
  const sink = parsed.out === '-' ? io.stdout : openOut(parsed.out);
  // The probe's own public addresses are scrubbed from everything written.
  // A bogon echoed by the control (loopback in the lab, a private address
  // behind NAT) identifies no one on the Internet and is left alone.
  const own = new PublicAddressSet();
  own.learnFromInterfaces();
  const measured: Measurement[] = [];
  await measureTargets(parsed.targets, parsed.engine, {
    signal: io.signal,
    onClientAddress: (address) => {
      if (!isBogon(address)) own.add(address);
    },
    onMeasurement: async (m) => {
      const clean = own.size > 0 ? scrubMeasurement(m, own.scrubForms()).measurement : m;
      measured.push(clean);
      await writeLine(sink, `${JSON.stringify(measurementToJson(clean))}\n`);
    },
  });
  if (sink !== io.stdout) await closeStream(sink as WriteStream);
  if (measured.length < parsed.targets.length) {
    io.stderr.write(`steppe-probe measure: interrupted after ${measured.length} of ${parsed.targets.length} URLs\n`);
    return EXIT.FAILED;
  }
  if (parsed.collectors.length > 0 && parsed.dataDir !== undefined) {
    const { uploadMeasurements } = await import('../upload-results.js');
    const result = await uploadMeasurements({
      dataDir: parsed.dataDir,
      collectors: parsed.collectors,
      measurements: measured,
      timeoutMs: parsed.uploadTimeoutMs,
      signal: io.signal,
      stderr: io.stderr,
      uplink: {
        ...(parsed.engine.localAddress !== undefined ? { localAddress: parsed.engine.localAddress } : {}),
        ...(parsed.engine.extraCaPem !== undefined ? { ca: parsed.engine.extraCaPem } : {}),
      },
    });
    if (result.pending > 0) return EXIT.FAILED;
  }
  return EXIT.OK;
}

/** Open --out now, so a bad path is a usage error before anything is measured. */
function openOut(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (cause) {
    throw new UsageError(`option --out: cannot write ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  return createWriteStream(path, { fd });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

function writeLine(stream: NodeJS.WritableStream, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(line, (err) => (err ? reject(err) : resolve()));
  });
}

/** `steppe-probe measure`: measure URLs now and print JSON Lines. */
export const measureCommand: Command = {
  name: 'measure',
  summary: 'Measure URLs now and print JSON Lines',
  help: HELP,
  run,
};
