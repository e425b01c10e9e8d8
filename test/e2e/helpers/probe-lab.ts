import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type MeasurementJson, measurementToJson, parseCidrList } from '@steppe/shared';
import { ENGINE_DEFAULTS, measureTargets } from 'steppe-probe';
import { CONTROL_SOURCE, type Lab, type LabOptions, startLab } from '../../lab/src/index.js';

/**
 * The end-to-end rig: the censorship lab, the real control vantage
 * (`steppe-collector control`, its sockets bound to the control source
 * 127.0.3.1) and the real probe, run either through its engine API
 * (`measureTargets`, in-process: fast) with exactly the options
 * `steppe-probe measure` builds, or through the CLI itself.
 */

const COLLECTOR_BIN = fileURLToPath(new URL('../../../collector/bin/steppe-collector.js', import.meta.url));
const PROBE_BIN = fileURLToPath(new URL('../../../probe/bin/steppe-probe.js', import.meta.url));
const BUILT = [
  fileURLToPath(new URL('../../../collector/dist/cli/main.js', import.meta.url)),
  fileURLToPath(new URL('../../../probe/dist/cli/main.js', import.meta.url)),
];

/** The egress allow-list and lab switch of the loopback tier: loopback only. */
export const LOOPBACK = '127.0.0.0/8';

/** Options of one measurement. */
export interface MeasureOptions {
  /** In-country network (default kazakhtelecom); the source host is fresh per measurement. */
  readonly network?: string;
  /** An explicit source address instead (e.g. to find it in the lab's log). */
  readonly source?: string;
  /** Per-target budget (default 10 s; scenarios that time out use less). */
  readonly timeoutMs?: number;
  /** The egress allow-list (default 127.0.0.0/8). */
  readonly allowNet?: string;
  /** Pass the lab's state root as a known interception root (default true, as `--interception-roots`). */
  readonly knownStateRoot?: boolean;
  /** Also ask the lab's public resolver, as `--third-party-resolver` (default false). */
  readonly thirdPartyResolver?: boolean;
}

/** A running rig. */
export interface ProbeLab {
  readonly lab: Lab;
  /** Base URL of the control (`--control`). */
  readonly controlUrl: string;
  /** A URL of the lab, made unique so the control's 60 s cache never serves another test's result. */
  url(domain: string, scheme?: 'http' | 'https', path?: string): string;
  /** Measure one URL with the engine, as `steppe-probe measure` would; the CLI's JSON form. */
  measure(url: string, options?: MeasureOptions): Promise<MeasurementJson>;
  /** A fresh source address in `network` (default kazakhtelecom). */
  source(network?: string): string;
  /** The `measure` flags for a probe in `network` (fresh source address). */
  cliArgs(network?: string): string[];
  /** Run `steppe-probe ARGS...`. */
  cli(args: readonly string[], timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** The prefix of each network's /24 (LAB_NETWORKS). */
function networkPrefix(lab: Lab, network: string): string {
  const source = lab.source(network);
  return source.slice(0, source.lastIndexOf('.') + 1);
}

function startControl(lab: Lab): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [
    COLLECTOR_BIN, 'control', '--port', '0', '--host', '127.0.0.1',
    '--resolver', lab.resolver.address, '--control-local-address', CONTROL_SOURCE,
    '--allow-net', LOOPBACK, '--ca-file', lab.rootCaFile,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`steppe-collector control did not start: ${out}`));
    }, 30_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m?.[1] === undefined) return;
      clearTimeout(timer);
      resolve({ child, url: m[1] });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`steppe-collector control exited (${code}) before listening: ${out}`));
    });
  });
}

/** Start the lab and the control. Needs the built CLIs (`npx tsc -b`). */
export async function startProbeLab(options: LabOptions = {}): Promise<ProbeLab> {
  const missing = BUILT.filter((path) => !existsSync(path));
  if (missing.length > 0) throw new Error(`end-to-end tests spawn the built CLIs; missing ${missing.join(', ')}: run \`npx tsc -b\` first`);
  const lab = await startLab(options);
  let control: { child: ChildProcess; url: string };
  try {
    control = await startControl(lab);
  } catch (err) {
    await lab.close();
    throw err;
  }
  const children = new Set<ChildProcess>();
  // A fresh source host per measurement: the control rate-limits per caller address.
  let host = 10;
  const nextSource = (network: string): string => {
    const source = `${networkPrefix(lab, network)}${host}`;
    host = host >= 250 ? 10 : host + 1;
    return source;
  };
  let unique = 0;
  const cliArgs = (network = 'kazakhtelecom'): string[] => [
    '--allow-net', LOOPBACK, '--local-address', nextSource(network), '--resolver', lab.resolver.address,
    '--control', control.url, '--ca-file', lab.rootCaFile, '--interception-roots', lab.stateRootFile, '--lab-addresses', LOOPBACK,
  ];
  return {
    lab,
    controlUrl: control.url,
    url: (domain, scheme = 'https', path = '/') => {
      unique += 1;
      return lab.url(domain, scheme, `${path}${path.includes('?') ? '&' : '?'}e2e=${process.pid}-${unique}`);
    },
    measure: async (url, measureOptions = {}) => {
      const results: MeasurementJson[] = [];
      await measureTargets([{ url }], {
        probeId: 'p0000000000000000000000000000e2e0',
        resolver: lab.resolver,
        ...(measureOptions.thirdPartyResolver === true ? { thirdPartyResolvers: [lab.publicResolver] } : {}),
        controlUrl: control.url,
        allowNet: parseCidrList(measureOptions.allowNet ?? LOOPBACK),
        localAddress: measureOptions.source ?? nextSource(measureOptions.network ?? 'kazakhtelecom'),
        extraCaPem: [lab.rootCaPem],
        ...(measureOptions.knownStateRoot === false ? {} : { interceptionRootsPem: [lab.stateRootPem] }),
        labAddresses: parseCidrList(LOOPBACK),
        controlSni: ENGINE_DEFAULTS.controlSni,
        perTargetTimeoutMs: measureOptions.timeoutMs ?? 10_000,
        maxBodyBytes: ENGINE_DEFAULTS.maxBodyBytes,
        concurrency: 1,
      }, { onMeasurement: (m) => { results.push(measurementToJson(m)); } });
      const [result] = results;
      if (result === undefined) throw new Error(`no measurement for ${url}`);
      return result;
    },
    source: (network = 'kazakhtelecom') => nextSource(network),
    cliArgs,
    cli: (args, timeoutMs = 60_000) => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [PROBE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        children.delete(child);
        reject(err);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        children.delete(child);
        resolve({ code, stdout, stderr });
      });
    }),
    close: async () => {
      for (const child of children) child.kill('SIGKILL');
      await new Promise<void>((resolve) => {
        if (control.child.exitCode !== null || control.child.signalCode !== null) {
          resolve();
          return;
        }
        control.child.once('exit', () => resolve());
        control.child.kill('SIGTERM');
      });
      await lab.close();
    },
  };
}

/** The analysis fields a scenario asserts, read from the CLI's JSON form. */
export function verdictOf(m: MeasurementJson): {
  verdict: unknown; blockingType: unknown; anomaly: unknown; confirmed: unknown; failure: unknown; failedStep: unknown;
} {
  const analysis = (m['analysis'] ?? {}) as Record<string, unknown>;
  return {
    verdict: m['verdict'],
    blockingType: analysis['blocking_type'],
    anomaly: m['anomaly'],
    confirmed: m['confirmed'],
    failure: m['failure'],
    failedStep: analysis['failed_step'],
  };
}

/** A censor behaviour, as `lab.censor.apply` takes it. */
export type CensorBehaviour = Parameters<Lab['censor']['apply']>[0]['behaviour'];

/** One test file's rig: {@link useProbeLab}. */
export interface ProbeLabFixture {
  /** The running rig (set before the first test). */
  readonly rig: ProbeLab;
  /** Censor `domain` for `networks` (default kazakhtelecom) until the end of the test. */
  censor(domain: string, behaviour: CensorBehaviour, networks?: readonly string[]): void;
}

/**
 * Start a rig for the calling test file before its tests, lift every censor
 * rule after each test, and close the rig after all of them.
 */
export function useProbeLab(options: Parameters<typeof startProbeLab>[0] = {}): ProbeLabFixture {
  let started: ProbeLab | undefined;
  beforeAll(async () => {
    started = await startProbeLab(options);
  });
  afterAll(async () => {
    await started?.close();
  });
  afterEach(() => {
    started?.lab.censor.clear();
  });
  const rig = (): ProbeLab => {
    if (started === undefined) throw new Error('the probe lab is not started: use it inside tests and hooks');
    return started;
  };
  return {
    get rig() {
      return rig();
    },
    censor(domain, behaviour, networks = ['kazakhtelecom']) {
      rig().lab.censor.apply({ domains: domain, networks: [...networks], behaviour });
    },
  };
}
