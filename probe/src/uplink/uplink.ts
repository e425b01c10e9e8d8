import { EventEmitter } from 'node:events';
import type { LookupFunction } from 'node:net';
import { type Clock, InvalidArgumentError, check, systemClock } from '@steppe/shared';
import type { Outbox, OutboxDropEvent } from '../outbox/outbox.js';
import type { ProbeIdentity } from '../identity/identity.js';
import { SOFTWARE_VERSION } from '../version.js';
import { Backoff } from './backoff.js';
import { parsePins } from './certificate-pin.js';
import { ingestUrl } from './collector-url.js';
import { proxyAgentFor } from './proxy.js';
import { type Timers, realTimers } from './timers.js';
import { type EffectiveLimits, type SessionEnd, UplinkSession } from './uplink-session.js';

/** Options of {@link Uplink}. */
export interface UplinkOptions {
  /** Collector base URLs (http(s)://host:port), tried in order. */
  readonly collectors: readonly string[];
  readonly identity: Pick<ProbeIdentity, 'keys' | 'probeId'>;
  readonly outbox: Outbox;
  readonly softwareVersion?: string;
  /** Sent in the hello; required by collectors that enroll by token. */
  readonly enrollmentToken?: string;
  /** Test-list version the probe holds (announced in the hello). */
  readonly testListVersion?: string;
  /** `https://`, `http://` or `socks5://` proxy; default: HTTPS_PROXY / HTTP_PROXY from `env`. */
  readonly proxy?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** SHA-256 pins of the collector's leaf certificate (hex or base64), checked on top of normal verification. */
  readonly pinSha256?: readonly string[];
  /** Extra trust roots for wss:// (private deployments, tests). */
  readonly ca?: string | Buffer | Array<string | Buffer>;
  /** Local address to bind (tests bind distinct loopback addresses). */
  readonly localAddress?: string;
  /** Custom resolver for the collector's name (e.g. through the egress guard). */
  readonly lookup?: LookupFunction;
  /** Most measurements per batch (lowered to the collector's limit). Default 100. */
  readonly maxBatchMeasurements?: number;
  /** Most measurement bytes per batch. Default 1 MiB. */
  readonly maxBatchBytes?: number;
  /** Most unacknowledged batches (lowered to the collector's limit). Default 4. */
  readonly maxInFlight?: number;
  /** Connect + welcome timeout, ms. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** A batch not acked within this is taken as a dead connection. Default 60 s. */
  readonly ackTimeoutMs?: number;
  /** Reconnect backoff: full jitter, from `baseMs` (1 s) doubling to `capMs` (5 min). */
  readonly backoff?: { readonly baseMs?: number; readonly capMs?: number };
  readonly random?: () => number;
  readonly clock?: Clock;
  readonly timers?: Timers;
  /** Negotiate permessage-deflate. Default true (docs/design/dd-002). */
  readonly compression?: boolean;
  /** While connected and idle, look for rows other processes queued this often. Default 10 s. */
  readonly pollIntervalMs?: number;
}

/** Payloads of the Uplink's events (for the CLI's log lines). */
export interface UplinkEvents {
  connected: [{ url: string; collectorId: string; limits: EffectiveLimits }];
  disconnected: [{ url: string; code: string; message: string; closeCode: number | undefined; welcomed: boolean }];
  retrying: [{ inMs: number; attempt: number }];
  acked: [{ url: string; sequence: number; stored: number; duplicates: number }];
  /** A refusal or failure. Emitted only when someone listens (an unheard 'error' must not throw). */
  error: [{ url: string; code: string; message: string; sequence?: number; closeCode?: number }];
  /** Measurements removed from the upload queue: by the outbox cap, or set aside after the collector rejected them. */
  dropped: [OutboxDropEvent | { count: number; reason: 'rejected_by_collector'; message: string }];
  /** The collector's test-list version (from Welcome), for the daemon's list updater. */
  testListVersion: [{ url: string; version: string }];
  /** Outbox drained, nothing in flight. */
  idle: [];
}

/** What flush() reports. */
export interface FlushResult {
  /** Measurements acknowledged (stored or already stored) during this flush. */
  readonly acked: number;
  /** Measurements still in the outbox. */
  readonly pending: number;
}

const DEFAULTS = { maxBatchMeasurements: 100, maxBatchBytes: 1024 * 1024, maxInFlight: 4, connectTimeoutMs: 15_000, ackTimeoutMs: 60_000, pollIntervalMs: 10_000 };

/**
 * The long-lived uplink of the probe daemon: keeps one session to the first
 * collector that answers (failing over in list order), streams the outbox,
 * and reconnects with exponential backoff and full jitter. Unacknowledged
 * batches stay in the outbox and are resent after a reconnect.
 */
export class Uplink extends EventEmitter<UplinkEvents> {
  readonly #o: UplinkOptions;
  readonly #urls: readonly string[];
  readonly #backoff: Backoff;
  readonly #timers: Timers;
  readonly #clock: Clock;
  readonly #suspects = new Set<string>();
  readonly #onOutboxDrop = (e: OutboxDropEvent): void => {
    this.emit('dropped', e);
  };
  #session: UplinkSession | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #sleep: { handle: unknown; wake: () => void } | undefined;
  #pollTimer: unknown;
  #acked = 0;

  constructor(options: UplinkOptions) {
    super();
    if (!Array.isArray(options.collectors) || options.collectors.length === 0) throw new InvalidArgumentError('Uplink: collectors must list at least one URL');
    this.#urls = options.collectors.map((c) => ingestUrl(c));
    const positive = (field: string, max: number, v: number | undefined): void => {
      if (v !== undefined) check.integer({ min: 1, max })(v, field);
    };
    positive('maxBatchMeasurements', 100_000, options.maxBatchMeasurements);
    positive('maxBatchBytes', 256 * 1024 * 1024, options.maxBatchBytes);
    positive('maxInFlight', 1024, options.maxInFlight);
    positive('connectTimeoutMs', 600_000, options.connectTimeoutMs);
    positive('ackTimeoutMs', 3_600_000, options.ackTimeoutMs);
    if (options.pinSha256 !== undefined) parsePins(options.pinSha256);
    // Fail early on a bad proxy setting.
    for (const url of this.#urls) proxyAgentFor(url, options.proxy, options.env ?? process.env);
    this.#o = options;
    this.#backoff = new Backoff({ ...options.backoff, ...(options.random !== undefined ? { random: options.random } : {}) });
    this.#timers = options.timers ?? realTimers;
    this.#clock = options.clock ?? systemClock;
  }

  /** The ingest URLs, in failover order. */
  get urls(): readonly string[] {
    return this.#urls;
  }

  /** True while a session is established (welcome received). */
  get connected(): boolean {
    return this.#session?.welcomed === true;
  }

  /** Start connecting and streaming. Idempotent. */
  start(): void {
    if (this.#closed) throw new InvalidArgumentError('Uplink: start() after close()');
    if (this.#running !== undefined) return;
    this.#o.outbox.on('dropped', this.#onOutboxDrop);
    this.#running = this.#loop();
  }

  /** New rows were queued: send them now rather than at the next poll. */
  notify(): void {
    this.#session?.notify();
  }

  /**
   * Wait until every queued measurement is acknowledged, or `timeoutMs`
   * passes, or `signal` aborts; starts the uplink if needed. Never rejects
   * for network reasons: what is not acked stays in the outbox.
   */
  async flush(options: { timeoutMs: number; signal?: AbortSignal }): Promise<FlushResult> {
    check.integer({ min: 0, max: 2_147_483_647 })(options.timeoutMs, 'timeoutMs');
    this.start();
    const startAcked = this.#acked;
    await new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.off('acked', check);
        this.off('idle', check);
        options.signal?.removeEventListener('abort', finish);
        resolve();
      };
      const check = (): void => {
        if (this.#eligible() === 0) finish();
      };
      const timer = setTimeout(finish, options.timeoutMs);
      this.on('acked', check);
      this.on('idle', check);
      if (options.signal?.aborted === true) finish();
      options.signal?.addEventListener('abort', finish, { once: true });
      this.notify();
      check();
    });
    return { acked: this.#acked - startAcked, pending: this.#o.outbox.stats().count };
  }

  /** Stop: close the session (in-flight batches stay in the outbox) and stop reconnecting. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.outbox.off('dropped', this.#onOutboxDrop);
    this.#timers.clearTimeout(this.#pollTimer);
    this.#sleep?.wake();
    this.#session?.close(true);
    await this.#running;
  }

  #eligible(): number {
    const s = this.#o.outbox.stats();
    return s.count - s.quarantined;
  }

  async #loop(): Promise<void> {
    let index = 0;
    while (!this.#closed) {
      const url = this.#urls[index] ?? this.#urls[0] ?? '';
      const end = await this.#runSession(url);
      this.emit('disconnected', { url, code: end.code, message: end.message, closeCode: end.closeCode, welcomed: end.welcomed });
      if (this.#closed) break;
      if (!end.welcomed) {
        this.#emitError({ url, code: end.code, message: end.message, ...(end.closeCode !== undefined ? { closeCode: end.closeCode } : {}) });
        index += 1;
        // Fail over to the next collector at once; after a full round, back off.
        if (index < this.#urls.length) continue;
      } else {
        this.#backoff.reset();
      }
      index = 0;
      const wait = this.#backoff.next();
      this.emit('retrying', { inMs: wait, attempt: this.#backoff.attempt });
      await this.#pause(wait);
    }
  }

  #runSession(url: string): Promise<SessionEnd> {
    const o = this.#o;
    const session = new UplinkSession({
      url,
      identity: o.identity,
      outbox: o.outbox,
      clock: this.#clock,
      timers: this.#timers,
      softwareVersion: o.softwareVersion ?? SOFTWARE_VERSION,
      enrollmentToken: o.enrollmentToken ?? '',
      testListVersion: o.testListVersion ?? '',
      limits: {
        maxBatchMeasurements: o.maxBatchMeasurements ?? DEFAULTS.maxBatchMeasurements,
        maxBatchBytes: o.maxBatchBytes ?? DEFAULTS.maxBatchBytes,
        maxFrameBytes: 64 * 1024 * 1024,
        maxInFlight: o.maxInFlight ?? DEFAULTS.maxInFlight,
        maxBatchesPerSecond: 1_000_000,
        maxBytesPerSecond: Number.MAX_SAFE_INTEGER,
      },
      connectTimeoutMs: o.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      ackTimeoutMs: o.ackTimeoutMs ?? DEFAULTS.ackTimeoutMs,
      compression: o.compression ?? true,
      agent: proxyAgentFor(url, o.proxy, o.env ?? process.env),
      pins: o.pinSha256 !== undefined ? parsePins(o.pinSha256) : [],
      ca: o.ca,
      localAddress: o.localAddress,
      lookup: o.lookup,
      suspects: this.#suspects,
    }, {
      welcome: (w) => {
        this.emit('connected', { url, collectorId: w.collectorId, limits: w.limits });
        if (w.testListVersion !== '') this.emit('testListVersion', { url, version: w.testListVersion });
      },
      acked: (a) => {
        this.#acked += a.stored + a.duplicates;
        this.emit('acked', { url, ...a });
      },
      refused: (r) => this.#emitError({ url, code: r.code, message: r.message, sequence: r.sequence, closeCode: r.closeCode }),
      quarantined: (q) => this.emit('dropped', { count: 1, reason: 'rejected_by_collector', message: q.reason }),
      idle: () => {
        this.emit('idle');
        this.#timers.clearTimeout(this.#pollTimer);
        this.#pollTimer = this.#timers.setTimeout(() => this.#session?.notify(), o.pollIntervalMs ?? DEFAULTS.pollIntervalMs);
      },
    });
    this.#session = session;
    return session.run().finally(() => {
      if (this.#session === session) this.#session = undefined;
    });
  }

  #emitError(e: UplinkEvents['error'][0]): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  #pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.#timers.clearTimeout(handle);
        this.#sleep = undefined;
        resolve();
      };
      const handle = this.#timers.setTimeout(wake, ms);
      this.#sleep = { handle, wake };
    });
  }
}
