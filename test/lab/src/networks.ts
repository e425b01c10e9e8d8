import { type Cidr, InvalidArgumentError, cidrContains, formatIp, parseCidr } from '@steppe/shared';
import { isLabAddress } from './addresses.js';

/**
 * A simulated access network. Censors act on where traffic comes from, so the
 * lab tells networks apart by the probe's source address (`--local-address`):
 * every address in `cidr` belongs to this network.
 */
export interface LabNetworkSpec {
  /** Short id used in rules and logs, e.g. "kazakhtelecom". */
  readonly id: string;
  /** Human name, e.g. "AS9198 Kazakhtelecom". */
  readonly name: string;
  /** The autonomous system number the demo attributes to this network. */
  readonly asn: number;
  /** Source addresses of this network, e.g. "127.0.2.0/24". */
  readonly cidr: string;
  /** `in-country` networks are where censors act; `control` is the uncensored vantage. */
  readonly role: 'in-country' | 'control';
}

/** A network as the running lab knows it. */
export interface LabNetwork extends LabNetworkSpec {
  /** The first host address of `cidr`: the default `--local-address` of a probe in this network. */
  readonly source: string;
}

/**
 * The default networks: three Kazakh access networks of the 6 December 2020
 * exercise and the collector's control vantage. Several probes of one network
 * bind to different hosts of its /24 (127.0.2.1, 127.0.2.2...).
 */
export const LAB_NETWORKS: readonly LabNetworkSpec[] = [
  { id: 'kazakhtelecom', name: 'AS9198 Kazakhtelecom', asn: 9198, cidr: '127.0.2.0/24', role: 'in-country' },
  { id: 'beeline', name: 'AS21299 Kar-Tel/Beeline', asn: 21299, cidr: '127.0.4.0/24', role: 'in-country' },
  { id: 'kcell', name: 'AS206026 Kcell', asn: 206026, cidr: '127.0.5.0/24', role: 'in-country' },
  { id: 'control', name: 'Control vantage (uncensored)', asn: 0, cidr: '127.0.3.0/24', role: 'control' },
];

/** The source address the control vantage binds to by default (`--control-local-address`). */
export const CONTROL_SOURCE = '127.0.3.1';

/** The source address of the default in-country probe (AS9198 Kazakhtelecom). */
export const IN_COUNTRY_SOURCE = '127.0.2.1';

const ID_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Maps a source address to the network it belongs to. */
export class NetworkTable {
  readonly #networks: readonly LabNetwork[];
  readonly #cidrs: readonly Cidr[];

  constructor(specs: readonly LabNetworkSpec[]) {
    const seen = new Set<string>();
    const networks: LabNetwork[] = [];
    const cidrs: Cidr[] = [];
    specs.forEach((spec, i) => {
      const where = `networks[${i}]`;
      if (!ID_PATTERN.test(spec.id)) {
        throw new InvalidArgumentError(`${where}.id: ${JSON.stringify(spec.id)} must match ${ID_PATTERN.source}`);
      }
      if (spec.id === 'everyone' || spec.id === 'in-country') {
        throw new InvalidArgumentError(`${where}.id: "${spec.id}" is reserved as a network selector`);
      }
      if (seen.has(spec.id)) throw new InvalidArgumentError(`${where}.id: duplicate network id "${spec.id}"`);
      seen.add(spec.id);
      if (spec.role !== 'in-country' && spec.role !== 'control') {
        throw new InvalidArgumentError(`${where}.role: expected "in-country" or "control"`);
      }
      const cidr = parseCidr(spec.cidr);
      if (cidr.family !== 4 || cidr.prefix > 30 || !isLabAddress(formatIp(cidr.bytes))) {
        throw new InvalidArgumentError(`${where}.cidr: ${spec.cidr} must be an IPv4 /30 or larger inside 127.0.0.0/8 or 198.18.0.0/15`);
      }
      for (const other of cidrs) {
        if (cidrContains(other, cidr.bytes) || cidrContains(cidr, other.bytes)) {
          throw new InvalidArgumentError(`${where}.cidr: ${spec.cidr} overlaps ${other.text}`);
        }
      }
      const host = new Uint8Array(cidr.bytes);
      host[3] = (host[3] ?? 0) + 1;
      cidrs.push(cidr);
      networks.push({ ...spec, source: formatIp(host) });
    });
    this.#networks = networks;
    this.#cidrs = cidrs;
  }

  /** Every network, in the order given. */
  get all(): readonly LabNetwork[] {
    return this.#networks;
  }

  /** The network `source` belongs to, or undefined for an address of no simulated network. */
  lookup(source: string): LabNetwork | undefined {
    const index = this.#cidrs.findIndex((c) => cidrContains(c, source));
    return index === -1 ? undefined : this.#networks[index];
  }

  /** The network with this id; throws naming the known ids otherwise. */
  get(id: string): LabNetwork {
    const network = this.#networks.find((n) => n.id === id);
    if (network === undefined) {
      throw new InvalidArgumentError(`unknown network ${JSON.stringify(id)} (known: ${this.#networks.map((n) => n.id).join(', ')})`);
    }
    return network;
  }
}
