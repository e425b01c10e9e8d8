import { join } from 'node:path';
import { type Cidr, type Clock, EgressGuard, InvalidArgumentError, type MeasurementProps, encodeMeasurement } from '@steppe/shared';
import {
  ENGINE_DEFAULTS,
  type EngineOptions,
  type FlushResult,
  Outbox,
  type OutboxItem,
  PublicAddressSet,
  type Target,
  Uplink,
  loadOrCreateIdentity,
  measureTargets,
  scrubMeasurement,
} from 'steppe-probe';

/**
 * One volunteer's probe in the demo, driven round by round instead of by
 * the daemon's cron: the real engine (`measureTargets`), a real outbox
 * (SQLite, in the probe's data directory) and the real WebSocket uplink, all
 * on the simulated clock. As in the daemon (probe/src/daemon/probe-run.ts),
 * every measurement is scrubbed of the probe's own address and committed to
 * the outbox before the uplink is told to send; here one round's
 * measurements are committed in one transaction (one fsync per round rather
 * than per measurement: a day replays in minutes).
 */

/** Options of {@link DemoProbe.open}. */
export interface DemoProbeOptions {
  readonly name: string;
  readonly network: string;
  readonly dataDir: string;
  /** Source address of every socket (`--local-address`). */
  readonly source: string;
  /** The collector's base URL as the probe sees it (through the network gateway). */
  readonly collectorUrl: string;
  readonly resolver: { readonly host: string; readonly port: number };
  /** The egress allow-list (`--allow-net`) and the lab switch (`--lab-addresses`). */
  readonly allowNet: readonly Cidr[];
  readonly extraCaPem: string[];
  readonly interceptionRootsPem: string[];
  readonly perTargetTimeoutMs: number;
  readonly concurrency: number;
  readonly clock: Clock;
}

/** What one round of a probe produced. */
export interface RoundResult {
  readonly measured: number;
  /** Measurements per verdict ('' undetermined shown as "undetermined"). */
  readonly verdicts: Readonly<Record<string, number>>;
  readonly anomalies: number;
}

/** Uplink pacing of the demo: the day is compressed ~500×, so reconnect waits are too. */
const UPLINK_TIMING = { backoff: { baseMs: 200, capMs: 2_000 }, connectTimeoutMs: 5_000 } as const;

/** A demo probe: identity, outbox, uplink and engine options. */
export class DemoProbe {
  readonly name: string;
  readonly network: string;
  readonly source: string;
  readonly probeId: string;
  readonly #outbox: Outbox;
  readonly #uplink: Uplink;
  readonly #engine: EngineOptions;
  readonly #addresses = new PublicAddressSet();
  #dropped = 0;

  private constructor(options: DemoProbeOptions, outbox: Outbox, uplink: Uplink, probeId: string) {
    this.name = options.name;
    this.network = options.network;
    this.source = options.source;
    this.probeId = probeId;
    this.#outbox = outbox;
    this.#uplink = uplink;
    this.#engine = {
      probeId,
      resolver: options.resolver,
      controlUrl: options.collectorUrl,
      allowNet: options.allowNet,
      localAddress: options.source,
      extraCaPem: options.extraCaPem,
      interceptionRootsPem: options.interceptionRootsPem,
      labAddresses: options.allowNet,
      controlSni: ENGINE_DEFAULTS.controlSni,
      perTargetTimeoutMs: options.perTargetTimeoutMs,
      maxBodyBytes: ENGINE_DEFAULTS.maxBodyBytes,
      concurrency: options.concurrency,
      clock: options.clock,
    };
    this.#addresses.learnFromInterfaces();
    uplink.on('dropped', (e) => {
      this.#dropped += e.count;
    });
  }

  /**
   * Create the probe's identity and outbox in `dataDir` and start its uplink.
   * The collector's address and the probe's source must be inside the
   * allow-list, as `steppe-probe` checks for its config.
   */
  static open(options: DemoProbeOptions): DemoProbe {
    const guard = new EgressGuard(options.allowNet);
    const collectorHost = new URL(options.collectorUrl).hostname;
    for (const [what, ip] of [['collector', collectorHost], ['source', options.source], ['resolver', options.resolver.host]] as const) {
      if (!guard.allows(ip)) throw new InvalidArgumentError(`probe ${options.name}: ${what} ${ip} is outside the allow-list`);
    }
    const identity = loadOrCreateIdentity(options.dataDir);
    const outbox = Outbox.open(join(options.dataDir, 'outbox.sqlite'), { clock: options.clock });
    let uplink: Uplink;
    try {
      uplink = new Uplink({ collectors: [options.collectorUrl], identity, outbox, clock: options.clock, localAddress: options.source, ...UPLINK_TIMING });
      uplink.start();
    } catch (err) {
      outbox.close();
      throw err;
    }
    return new DemoProbe(options, outbox, uplink, identity.probeId);
  }

  /** Measurements waiting in the outbox. */
  get queued(): number {
    return this.#outbox.stats().count;
  }

  /** Measurements the outbox or uplink dropped (must stay 0: nothing is ever lost). */
  get dropped(): number {
    return this.#dropped + this.#outbox.stats().dropped;
  }

  /** Measure every target now, commit the results to the outbox, and tell the uplink. */
  async measure(targets: readonly Target[], signal?: AbortSignal): Promise<RoundResult> {
    const items: OutboxItem[] = [];
    const verdicts: Record<string, number> = {};
    let anomalies = 0;
    const keep = (m: MeasurementProps): void => {
      const { measurement } = scrubMeasurement(m, this.#addresses.scrubForms());
      items.push({ bytes: encodeMeasurement(measurement), id: measurement.id, startTimeMs: measurement.startTimeMs });
      const verdict = measurement.analysis?.verdict ?? '';
      const key = verdict === '' ? 'undetermined' : verdict;
      verdicts[key] = (verdicts[key] ?? 0) + 1;
      if (measurement.analysis?.anomaly === true) anomalies += 1;
    };
    await measureTargets([...targets], this.#engine, {
      ...(signal !== undefined ? { signal } : {}),
      onMeasurement: keep,
      onClientAddress: (address) => {
        this.#addresses.add(address);
      },
    });
    if (items.length > 0) {
      this.#outbox.enqueueMany(items);
      this.#uplink.notify();
    }
    return { measured: items.length, verdicts, anomalies };
  }

  /** Wait until the outbox is empty (everything acked) or `timeoutMs` passes. */
  flush(timeoutMs: number): Promise<FlushResult> {
    return this.#uplink.flush({ timeoutMs });
  }

  /** Stop the uplink (unacked rows stay in the outbox) and close the outbox. */
  async close(): Promise<void> {
    try {
      await this.#uplink.close();
    } finally {
      this.#outbox.close();
    }
  }
}
