import { InvalidArgumentError } from '@steppe/shared';
import { BEHAVIOUR_STAGES, type Behaviour, type Stage, checkBehaviour } from './behaviours.js';
import type { LabNetwork, NetworkTable } from './networks.js';
import { normalizeDomain } from './sites.js';

/**
 * Which sources a rule applies to: `everyone` (the control and unknown
 * sources included), `in-country` (every network whose role is in-country),
 * or a list of network ids.
 */
export type NetworkSelector = 'everyone' | 'in-country' | readonly string[];

/** What `Censor.apply` takes. */
export interface CensorRuleSpec {
  /** A domain, several, or `*` for every name (a shutdown, say). Matching is exact. */
  readonly domains: '*' | string | readonly string[];
  readonly networks: NetworkSelector;
  readonly behaviour: Behaviour;
}

/** A rule in force. */
export interface CensorRule {
  readonly id: string;
  readonly domains: '*' | readonly string[];
  readonly networks: 'everyone' | 'in-country' | readonly string[];
  readonly behaviour: Behaviour;
  readonly stage: Stage;
}

/** Optional filter of `Censor.liftWhere`. */
export interface RuleFilter {
  readonly domain?: string;
  readonly network?: string;
  readonly kind?: Behaviour['kind'];
}

/**
 * The censor's rule book, changed at runtime (the demo switches blocking on
 * and off through a simulated day). At each stage of a connection the lab
 * asks for the rule in force for (domain, source network); when several
 * match, the most recently applied wins, so lifting it uncovers the older one.
 */
export class Censor {
  readonly #networks: NetworkTable;
  #rules: CensorRule[] = [];
  #nextId = 1;
  /** Connections counted per flaky rule and (domain, source). */
  readonly #flakyCounts = new Map<string, Map<string, number>>();

  constructor(networks: NetworkTable) {
    this.#networks = networks;
  }

  /** Put a rule in force; returns its id (for `lift`). Throws on an unknown network or a bad behaviour. */
  apply(spec: CensorRuleSpec): string {
    const behaviour = checkBehaviour(spec.behaviour);
    const domains = this.#checkDomains(spec.domains);
    const networks = this.#checkNetworks(spec.networks);
    const rule: CensorRule = { id: `rule-${this.#nextId}`, domains, networks, behaviour, stage: BEHAVIOUR_STAGES[behaviour.kind] };
    this.#nextId += 1;
    this.#rules.push(rule);
    return rule.id;
  }

  /** Shut a network down entirely (every name, every connection). */
  shutdown(network: string, mode: 'drop' | 'reset' = 'drop'): string {
    return this.apply({ domains: '*', networks: [network], behaviour: { kind: 'shutdown', mode } });
  }

  /** Remove one rule. True when it was in force. */
  lift(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    this.#flakyCounts.delete(id);
    return this.#rules.length !== before;
  }

  /** Remove every rule matching the filter (all of them with an empty filter); returns how many. */
  liftWhere(filter: RuleFilter = {}): number {
    const domain = filter.domain === undefined ? undefined : normalizeDomain(filter.domain, 'filter.domain');
    const doomed = this.#rules.filter((r) =>
      (domain === undefined || r.domains === '*' || r.domains.includes(domain))
      && (filter.network === undefined || this.#selects(r, filter.network))
      && (filter.kind === undefined || r.behaviour.kind === filter.kind));
    for (const rule of doomed) this.lift(rule.id);
    return doomed.length;
  }

  /** Remove every rule. */
  clear(): void {
    this.#rules = [];
    this.#flakyCounts.clear();
  }

  /** The rules in force, oldest first. */
  rules(): readonly CensorRule[] {
    return [...this.#rules];
  }

  /**
   * The rule in force at `stage` for a name and a source network (undefined
   * network: a source of no simulated network). A `shutdown` rule of the
   * network wins over every stage.
   */
  match(stage: Exclude<Stage, 'network'>, domain: string | undefined, network: LabNetwork | undefined): CensorRule | undefined {
    const name = domain?.toLowerCase().replace(/\.$/, '');
    return this.#newest('network', name, network) ?? this.#newest(stage, name, network);
  }

  #newest(stage: Stage, name: string | undefined, network: LabNetwork | undefined): CensorRule | undefined {
    for (let i = this.#rules.length - 1; i >= 0; i -= 1) {
      const rule = this.#rules[i];
      if (rule === undefined || rule.stage !== stage) continue;
      if (rule.domains !== '*' && (name === undefined || !rule.domains.includes(name))) continue;
      if (this.#appliesTo(rule, network)) return rule;
    }
    return undefined;
  }

  /**
   * For a `flaky` rule: count this connection from `source` to `domain` and
   * say whether it must fail (the first `failures` ones do).
   */
  flakyShouldFail(rule: CensorRule, domain: string, source: string): boolean {
    if (rule.behaviour.kind !== 'flaky') return false;
    let counts = this.#flakyCounts.get(rule.id);
    if (counts === undefined) {
      counts = new Map();
      this.#flakyCounts.set(rule.id, counts);
    }
    const key = `${domain}|${source}`;
    const seen = counts.get(key) ?? 0;
    counts.set(key, seen + 1);
    return seen < (rule.behaviour.failures ?? 1);
  }

  #appliesTo(rule: CensorRule, network: LabNetwork | undefined): boolean {
    if (rule.networks === 'everyone') return true;
    if (network === undefined) return false;
    if (rule.networks === 'in-country') return network.role === 'in-country';
    return rule.networks.includes(network.id);
  }

  #selects(rule: CensorRule, networkId: string): boolean {
    return this.#appliesTo(rule, this.#networks.get(networkId));
  }

  #checkDomains(domains: CensorRuleSpec['domains']): '*' | readonly string[] {
    if (domains === '*') return '*';
    const list = typeof domains === 'string' ? [domains] : domains;
    if (!Array.isArray(list) || list.length === 0) {
      throw new InvalidArgumentError('rule.domains: expected "*", a domain, or a non-empty list of domains');
    }
    return list.map((d, i) => normalizeDomain(String(d), `rule.domains[${i}]`));
  }

  #checkNetworks(networks: NetworkSelector): CensorRule['networks'] {
    if (networks === 'everyone' || networks === 'in-country') return networks;
    if (!Array.isArray(networks) || networks.length === 0) {
      throw new InvalidArgumentError('rule.networks: expected "everyone", "in-country" or a non-empty list of network ids');
    }
    return networks.map((id) => this.#networks.get(String(id)).id);
  }
}
