import { InvalidArgumentError } from '@steppe/shared';

/**
 * The namespace tier's network, as a pure plan (names, addresses, the `ip`
 * commands that build it), so it can be reviewed and tested without root.
 *
 * ```
 *  probe ns                 censor ns (router, iptables)            world ns
 *  eth0 198.18.0.2/24 ─── to-probe 198.18.0.1/24
 *                          to-world 198.18.1.1/24 ──────────── eth0 198.18.1.2/24
 *  control ns                                                    lo   198.18.2.0/24 (lab hosts)
 *  eth0 198.18.3.2/24 ─── to-control 198.18.3.1/24
 * ```
 *
 * Only 198.18.0.0/15 (RFC 2544, benchmarking) is used, and only inside the
 * namespaces: nothing is configured in the root namespace, and no namespace
 * has a default route, so nothing can leave the lab.
 */

/** The range the namespace tier lives in, and the probe's only `--allow-net`. */
export const NAMESPACE_RANGE = '198.18.0.0/15';

/** Fixed addresses of the namespace tier. */
export const NAMESPACE_ADDRESSES = {
  probe: '198.18.0.2',
  probeGateway: '198.18.0.1',
  probeNetwork: '198.18.0.0/24',
  control: '198.18.3.2',
  controlGateway: '198.18.3.1',
  controlNetwork: '198.18.3.0/24',
  censorWorldSide: '198.18.1.1',
  world: '198.18.1.2',
  /** Every address of this /24 is local to the world namespace (on its loopback). */
  services: '198.18.2.0/24',
  servicesFirstHost: '198.18.2.1',
  /** The lab's resolver (port 53). */
  resolver: '198.18.2.53',
  /** The first lab site; the next ones follow. */
  firstSite: '198.18.2.10',
} as const;

/** Interface names (per namespace, so fixed names never clash between runs). */
export const NAMESPACE_INTERFACES = {
  /** In the probe, control and world namespaces. */
  uplink: 'eth0',
  censorToProbe: 'to-probe',
  censorToControl: 'to-control',
  censorToWorld: 'to-world',
} as const;

/** The iptables chain the censor's rules live in (jumped to from FORWARD). */
export const CENSOR_CHAIN = 'STEPPE';

/** Names of one run's namespaces. */
export interface NamespaceNames {
  readonly probe: string;
  readonly control: string;
  readonly censor: string;
  readonly world: string;
}

/** Prefix of every namespace the harness creates: `steppe-<pid base36>-<random>-<role>`. */
export const NAMESPACE_PREFIX = 'steppe-';

const NAME_PATTERN = /^steppe-([0-9a-z]{1,8})-([0-9a-z]{4,8})-(probe|control|censor|world)$/;

/** Namespace names for a run, unique per process and call. */
export function namespaceNames(pid: number, nonce: string): NamespaceNames {
  if (!Number.isInteger(pid) || pid <= 0) throw new InvalidArgumentError(`pid: expected a positive integer, got ${pid}`);
  if (!/^[0-9a-z]{4,8}$/.test(nonce)) throw new InvalidArgumentError(`nonce: expected 4-8 lower-case letters or digits, got ${JSON.stringify(nonce)}`);
  const base = `${NAMESPACE_PREFIX}${pid.toString(36)}-${nonce}`;
  return { probe: `${base}-probe`, control: `${base}-control`, censor: `${base}-censor`, world: `${base}-world` };
}

/** The pid that created a harness namespace, undefined for a name the harness would not make. */
export function namespaceOwner(name: string): number | undefined {
  const match = NAME_PATTERN.exec(name);
  return match?.[1] === undefined ? undefined : parseInt(match[1], 36);
}

/** The `ip` (and `iptables`) argument lists that build the topology, in order. */
export function setupCommands(ns: NamespaceNames): string[][] {
  const a = NAMESPACE_ADDRESSES;
  const i = NAMESPACE_INTERFACES;
  const commands: string[][] = [];
  for (const name of [ns.probe, ns.control, ns.censor, ns.world]) {
    commands.push(['ip', 'netns', 'add', name]);
    commands.push(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  }
  // veth pairs created directly inside their namespaces: no interface ever exists in the root namespace.
  const pairs: [string, string, string][] = [
    [ns.probe, i.censorToProbe, `${a.probe}/24|${a.probeGateway}/24`],
    [ns.control, i.censorToControl, `${a.control}/24|${a.controlGateway}/24`],
    [ns.world, i.censorToWorld, `${a.world}/24|${a.censorWorldSide}/24`],
  ];
  for (const [edge, censorSide, addresses] of pairs) {
    const [edgeAddress = '', censorAddress = ''] = addresses.split('|');
    commands.push(['ip', 'link', 'add', i.uplink, 'netns', edge, 'type', 'veth', 'peer', 'name', censorSide, 'netns', ns.censor]);
    commands.push(['ip', '-n', edge, 'addr', 'add', edgeAddress, 'dev', i.uplink]);
    commands.push(['ip', '-n', ns.censor, 'addr', 'add', censorAddress, 'dev', censorSide]);
    commands.push(['ip', '-n', edge, 'link', 'set', i.uplink, 'up']);
    commands.push(['ip', '-n', ns.censor, 'link', 'set', censorSide, 'up']);
  }
  // The lab hosts: a whole /24 made local on the world's loopback.
  commands.push(['ip', '-n', ns.world, 'addr', 'add', `${a.servicesFirstHost}/24`, 'dev', 'lo']);
  // Routes to the lab range only (no default route anywhere).
  commands.push(['ip', '-n', ns.probe, 'route', 'add', NAMESPACE_RANGE, 'via', a.probeGateway]);
  commands.push(['ip', '-n', ns.control, 'route', 'add', NAMESPACE_RANGE, 'via', a.controlGateway]);
  commands.push(['ip', '-n', ns.world, 'route', 'add', NAMESPACE_RANGE, 'via', a.censorWorldSide]);
  commands.push(['ip', '-n', ns.censor, 'route', 'add', a.services, 'via', a.world]);
  // The censor routes (ip_forward is per namespace) and owns a chain for its rules.
  commands.push(['ip', 'netns', 'exec', ns.censor, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  commands.push(['ip', 'netns', 'exec', ns.censor, 'iptables', '-w', '-N', CENSOR_CHAIN]);
  commands.push(['ip', 'netns', 'exec', ns.censor, 'iptables', '-w', '-A', 'FORWARD', '-j', CENSOR_CHAIN]);
  return commands;
}

/** The commands that remove the topology (deleting a namespace deletes its interfaces and rules). */
export function teardownCommands(ns: NamespaceNames): string[][] {
  return [ns.probe, ns.control, ns.censor, ns.world].map((name) => ['ip', 'netns', 'del', name]);
}
