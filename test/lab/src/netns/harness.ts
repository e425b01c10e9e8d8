import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import { InvalidArgumentError, SteppeError, cidrContains, parseCidr } from '@steppe/shared';
import type { CensorRuleSpec, RuleFilter } from '../censor.js';
import type { LabEvent, LabEventFilter } from '../event-log.js';
import type { ClientRequest, ClientResponse } from './client-protocol.js';
import { type PacketRule, iptablesCommands } from './packet-rules.js';
import { assertBuilt, builtEntryPoints, namespaceTierSupport } from './support.js';
import {
  NAMESPACE_ADDRESSES, NAMESPACE_RANGE, type NamespaceNames, namespaceNames, namespaceOwner, setupCommands, teardownCommands,
} from './topology.js';
import { LineChannel } from './line-channel.js';
import type { WorldAnswer, WorldDescriptor, WorldOptions, WorldReady, WorldRequest } from './world-protocol.js';

/** Output of a process run to completion. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of `startNamespaceLab`. */
export interface NamespaceLabOptions {
  /** Lab options for the world (addresses and ports are the namespace tier's). */
  readonly pageBytes?: number;
  readonly largeBytes?: number;
  /** How long the world lab may take to start (default 30 s). */
  readonly startTimeoutMs?: number;
}

/** A running namespace tier. */
export interface NamespaceLab {
  readonly names: NamespaceNames;
  readonly addresses: typeof NAMESPACE_ADDRESSES;
  /** The lab running in the world namespace. */
  readonly world: WorldDescriptor;
  /** The address of a lab host. */
  address(domain: string): string;
  /** The URL to measure (`https://www.facebook.com:443/`). */
  url(domain: string, scheme?: 'http' | 'https', path?: string): string;
  /** The censor router's packet rules (iptables in the censor namespace). */
  readonly packets: {
    apply(rule: PacketRule): Promise<number>;
    lift(id: number): Promise<boolean>;
    clear(): Promise<void>;
  };
  /** The world lab's own (source-address) rules and log, as in the loopback tier. */
  readonly lab: {
    apply(rule: CensorRuleSpec): Promise<string>;
    lift(ruleId: string): Promise<boolean>;
    liftWhere(filter: RuleFilter): Promise<number>;
    clear(): Promise<void>;
    events(filter?: LabEventFilter): Promise<LabEvent[]>;
    count(filter?: LabEventFilter): Promise<number>;
    clearLog(): Promise<void>;
  };
  /** Run one client operation from the probe or the control namespace. */
  client(side: 'probe' | 'control', request: ClientRequest, timeoutMs?: number): Promise<ClientResponse>;
  /**
   * Run the probe CLI (probe/bin/steppe-probe.js) inside the probe namespace,
   * behind the guard. `--allow-net` must be 198.18.0.0/15 alone (added when
   * absent); anything else is refused before a process starts.
   */
  runProbe(args: readonly string[], options?: { readonly timeoutMs?: number }): Promise<RunResult>;
  /**
   * Start a long-running node script (e.g. `steppe-collector control`) in the
   * probe or control namespace, behind the guard; stopped by `close`. Read
   * its stdout and stderr (a full pipe would block it).
   */
  start(side: 'probe' | 'control', script: string, args: readonly string[]): ChildProcessWithoutNullStreams;
  /** Stop the world, kill what the harness started, delete the namespaces. Idempotent. */
  close(): Promise<void>;
}

const PROBE_BIN = fileURLToPath(new URL('../../../../probe/bin/steppe-probe.js', import.meta.url));

function labError(message: string, cause?: unknown): SteppeError {
  return new SteppeError('STEPPE_ERR_LAB', message, cause === undefined ? undefined : { cause });
}

/** Run a command to completion (killed after `timeoutMs`), collecting its output. */
function run(argv: readonly string[], timeoutMs: number, children?: Set<ChildProcess>): Promise<RunResult> {
  const [command, ...args] = argv;
  if (command === undefined) return Promise.reject(new InvalidArgumentError('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children?.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      children?.delete(child);
      reject(labError(`cannot run ${command}: ${err.message}`, err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children?.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

async function runChecked(argv: readonly string[]): Promise<void> {
  const result = await run(argv, 15_000);
  if (result.code !== 0) throw labError(`${argv.join(' ')} failed (${result.code ?? result.signal}): ${result.stderr.trim()}`);
}

/** Delete namespaces left by harness runs whose process is gone (a crash, a killed test run). */
async function removeStaleNamespaces(): Promise<void> {
  const listed = await run(['ip', 'netns', 'list'], 10_000);
  for (const line of listed.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const owner = namespaceOwner(name);
    if (owner === undefined || owner === process.pid) continue;
    let alive = true;
    try {
      process.kill(owner, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code !== 'ESRCH';
    }
    if (!alive) await run(['ip', 'netns', 'del', name], 10_000);
  }
}

/** Check the probe's arguments: the namespace tier's egress allow-list is 198.18.0.0/15 alone. */
export function probeArguments(args: readonly string[]): string[] {
  const out = [...args];
  let sawAllowNet = false;
  for (let i = 0; i < out.length; i += 1) {
    const arg = out[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag !== '--allow-net' && flag !== '--local-address') continue;
    const value = inline ?? out[i + 1];
    if (flag === '--allow-net') {
      sawAllowNet = true;
      if (value !== NAMESPACE_RANGE) {
        throw new InvalidArgumentError(`--allow-net: the namespace tier allows ${NAMESPACE_RANGE} alone, got ${JSON.stringify(value)}`);
      }
    } else if (value === undefined || isIP(value) !== 4 || !cidrContains(parseCidr(NAMESPACE_RANGE), value)) {
      throw new InvalidArgumentError(`--local-address: must be inside ${NAMESPACE_RANGE}, got ${JSON.stringify(value)}`);
    }
  }
  if (!sawAllowNet) out.push('--allow-net', NAMESPACE_RANGE);
  return out;
}

/**
 * Build the namespace tier (probe, control, censor router, world), start the
 * lab in the world, and return handles. Throws a SteppeError with code
 * STEPPE_ERR_LAB when the host cannot (not root, no ip/iptables, not built);
 * check `namespaceTierSupport()` first to skip instead.
 */
export async function startNamespaceLab(options: NamespaceLabOptions = {}): Promise<NamespaceLab> {
  const support = namespaceTierSupport();
  if (!support.ok) throw labError(`the namespace tier cannot run here: ${support.reason}`);
  assertBuilt();
  const entry = builtEntryPoints();
  const rootInode = String(statSync('/proc/self/ns/net').ino);
  const names = namespaceNames(process.pid, randomBytes(4).toString('hex').slice(0, 6));
  const children = new Set<ChildProcess>();
  const channels: LineChannel[] = [];
  let closing: Promise<void> | undefined;

  // Everything a namespace runs goes through the guard, which refuses the root namespace.
  const guarded = (namespace: string, script: string, args: readonly string[]): string[] => [
    'ip', 'netns', 'exec', namespace, process.execPath, entry.guard, rootInode, script, ...args,
  ];

  const teardown = async (): Promise<void> => {
    // Long-running children get SIGTERM (a clean stop), then SIGKILL.
    await Promise.all([...children].map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    })));
    await Promise.all(channels.map((c) => c.close()));
    for (const argv of teardownCommands(names)) await run(argv, 10_000);
  };

  try {
    await removeStaleNamespaces();
    for (const argv of setupCommands(names)) await runChecked(argv);

    const worldOptions: WorldOptions = {
      networks: [
        { id: 'probe-network', name: 'In-country network (namespace tier)', asn: 9198, cidr: NAMESPACE_ADDRESSES.probeNetwork, role: 'in-country' },
        { id: 'control', name: 'Control vantage (namespace tier)', asn: 0, cidr: NAMESPACE_ADDRESSES.controlNetwork, role: 'control' },
      ],
      firstSiteAddress: NAMESPACE_ADDRESSES.firstSite,
      resolverAddress: NAMESPACE_ADDRESSES.resolver,
      ports: { http: 80, https: 443, dns: 53 },
      ...(options.pageBytes === undefined ? {} : { pageBytes: options.pageBytes }),
      ...(options.largeBytes === undefined ? {} : { largeBytes: options.largeBytes }),
    };
    const world = new LineChannel(guarded(names.world, entry.world, [JSON.stringify(worldOptions)]), 'the world lab');
    channels.push(world);
    const ready = (await world.nextUnsolicited(options.startTimeoutMs ?? 30_000)) as WorldReady;
    if (!('ready' in ready)) throw labError(`the world lab failed to start: ${String(ready.failed)}`);
    const descriptor = ready.ready;

    const command = async (body: WorldRequest): Promise<unknown> => {
      const answer = (await world.request(body, 30_000)) as unknown as WorldAnswer;
      if (!answer.ok) throw new InvalidArgumentError(answer.error);
      return answer.result;
    };

    const agents = new Map<'probe' | 'control', LineChannel>();
    const agent = (side: 'probe' | 'control'): LineChannel => {
      let channel = agents.get(side);
      if (channel === undefined) {
        channel = new LineChannel(guarded(side === 'probe' ? names.probe : names.control, entry.client, []), `the ${side} client agent`);
        channels.push(channel);
        agents.set(side, channel);
      }
      return channel;
    };

    const packetRules = new Map<number, PacketRule>();
    let nextRule = 1;
    const iptables = async (argv: string[]): Promise<void> => runChecked(['ip', 'netns', 'exec', names.censor, ...argv]);
    const site = (domain: string): string => {
      const found = descriptor.sites.find((s) => s.domain === domain.toLowerCase());
      if (found === undefined) throw new InvalidArgumentError(`${JSON.stringify(domain)} is not a lab host`);
      return found.address;
    };

    return {
      names,
      addresses: NAMESPACE_ADDRESSES,
      world: descriptor,
      address: site,
      url: (domain, scheme = 'https', path = '/') => {
        site(domain);
        return `${scheme}://${domain.toLowerCase()}:${descriptor.ports[scheme]}${path}`;
      },
      packets: {
        apply: async (rule) => {
          const id = nextRule;
          nextRule += 1;
          const commands = iptablesCommands('-A', rule, id);
          for (const argv of commands) await iptables(argv);
          packetRules.set(id, rule);
          return id;
        },
        lift: async (id) => {
          const rule = packetRules.get(id);
          if (rule === undefined) return false;
          packetRules.delete(id);
          for (const argv of iptablesCommands('-D', rule, id)) await iptables(argv);
          return true;
        },
        clear: async () => {
          const rules = [...packetRules];
          packetRules.clear();
          for (const [id, rule] of rules) {
            for (const argv of iptablesCommands('-D', rule, id)) await iptables(argv);
          }
        },
      },
      lab: {
        apply: async (rule) => String(await command({ op: 'apply', rule })),
        lift: async (ruleId) => (await command({ op: 'lift', ruleId })) === true,
        liftWhere: async (filter) => Number(await command({ op: 'lift-where', filter })),
        clear: async () => { await command({ op: 'clear' }); },
        events: async (filter = {}) => (await command({ op: 'events', filter })) as LabEvent[],
        count: async (filter = {}) => Number(await command({ op: 'count', filter })),
        clearLog: async () => { await command({ op: 'clear-log' }); },
      },
      client: async (side, request, timeoutMs = 30_000) => {
        const answer = await agent(side).request({ request }, timeoutMs);
        return answer['response'] as ClientResponse;
      },
      start: (side, script, args) => {
        const [command, ...rest] = guarded(side === 'probe' ? names.probe : names.control, script, args);
        const child = spawn(command ?? 'ip', rest, { stdio: ['pipe', 'pipe', 'pipe'] });
        children.add(child);
        child.once('close', () => children.delete(child));
        return child;
      },
      runProbe: async (args, runOptions = {}) => run(guarded(names.probe, PROBE_BIN, probeArguments(args)), runOptions.timeoutMs ?? 120_000, children),
      close: () => {
        closing ??= teardown();
        return closing;
      },
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
