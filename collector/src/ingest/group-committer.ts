import { SteppeError } from '@steppe/shared';
import type { CommitResult, IncomingBatch, IngestStore } from '../store/store.js';
import type { IngestMetrics } from './metrics.js';

/** Options of the group committer. */
export interface GroupCommitOptions {
  /** Most batches per transaction (1 disables grouping). Default 1,000. */
  readonly maxBatches?: number;
  /**
   * Most measurements per transaction (default 10,000): bounds how long one
   * commit takes (~0.3 s at the store's rate), and so the Ack latency of the
   * batches in it, and the memory of what waits for it. A single batch
   * larger than this is committed alone.
   */
  readonly maxMeasurements?: number;
  /**
   * How long the first batch of a group may wait for company, ms. 0 (the
   * default) commits at the next turn of the event loop: whatever arrived in
   * the same round of socket reads shares one transaction, adding no delay.
   */
  readonly maxDelayMs?: number;
  /**
   * Measurements queued behind the commit in flight from which ingest stops
   * reading the probes' sockets (default: maxMeasurements, one full group).
   * The store commits off the event loop, so without this the event loop
   * would read and decode everything the probes have in flight into memory
   * while a commit runs; with it the rest waits in the kernel's socket
   * buffers, as it did when commits blocked the event loop.
   */
  readonly highWaterMeasurements?: number;
  /** Called with true when the queue reaches the high-water mark, with false once it is below half of it. */
  readonly onPressure?: (high: boolean) => void;
}

interface Pending {
  readonly batch: IncomingBatch;
  readonly resolve: (r: CommitResult) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Commits batches that arrive close together in one durable transaction
 * (one fsync for many batches), then settles each caller with its own
 * result. If a group fails, each batch is retried alone so one bad batch
 * cannot fail its neighbours.
 *
 * One commit is in flight at a time, and the group size adapts to the load:
 * while the store commits (off the event loop: SQLite's writer thread,
 * PostgreSQL), the event loop goes on reading and verifying batches, and
 * the commit after that takes everything queued (up to the caps) — under
 * light load a batch commits alone at once, under heavy load each fsync is
 * shared by hundreds of batches (docs/design/dd-002-uplink.md, bench/ingest).
 */
export class GroupCommitter {
  readonly #store: IngestStore;
  readonly #metrics: IngestMetrics;
  readonly #maxBatches: number;
  readonly #maxMeasurements: number;
  readonly #maxDelayMs: number;
  #queue: Pending[] = [];
  /** Measurements in #queue. */
  #queued = 0;
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** True while a group's commit is in flight. */
  #committing = false;
  readonly #highWater: number;
  readonly #onPressure: ((high: boolean) => void) | undefined;
  #pressed = false;
  #idle: Array<() => void> = [];

  constructor(store: IngestStore, metrics: IngestMetrics, options: GroupCommitOptions = {}) {
    this.#store = store;
    this.#metrics = metrics;
    this.#maxBatches = Math.max(1, options.maxBatches ?? 1_000);
    this.#maxMeasurements = Math.max(1, options.maxMeasurements ?? 10_000);
    this.#maxDelayMs = Math.max(0, options.maxDelayMs ?? 0);
    this.#highWater = Math.max(1, options.highWaterMeasurements ?? this.#maxMeasurements);
    this.#onPressure = options.onPressure;
  }

  /** True while the queue is over its high-water mark (ingest pauses reading). */
  get pressed(): boolean {
    return this.#pressed;
  }

  #pressure(): void {
    const high = this.#pressed ? this.#queued >= this.#highWater / 2 : this.#queued >= this.#highWater;
    if (high === this.#pressed) return;
    this.#pressed = high;
    this.#onPressure?.(high);
  }

  /** Number of batches waiting for the next commit (the one in flight not included). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Resolves when the batch's transaction has committed; rejects when it could not. */
  submit(batch: IncomingBatch): Promise<CommitResult> {
    return new Promise<CommitResult>((resolve, reject) => {
      this.#queue.push({ batch, resolve, reject });
      this.#queued += batch.measurements.length;
      // A full group commits now (if none is in flight); the rest at the
      // next turn, with whatever else arrives.
      if (!this.#committing) {
        if (this.#queue.length >= this.#maxBatches || this.#queued >= this.#maxMeasurements) this.#next();
        else this.#schedule();
      }
      this.#pressure();
    });
  }

  /** Commit everything queued without waiting for company; resolves once nothing is queued or in flight. */
  flush(): Promise<void> {
    this.#cancel();
    const idle = this.drain();
    if (!this.#committing) this.#next();
    return idle;
  }

  /** Resolves once nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && !this.#committing) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
    });
  }

  /** The oldest queued batches, up to the caps (at least one). */
  #takeGroup(): Pending[] {
    let count = 0;
    let measurements = 0;
    for (const p of this.#queue) {
      const n = p.batch.measurements.length;
      if (count > 0 && (count >= this.#maxBatches || measurements + n > this.#maxMeasurements)) break;
      count += 1;
      measurements += n;
    }
    this.#queued -= measurements;
    const group = this.#queue.splice(0, count);
    this.#pressure();
    return group;
  }

  /** Start committing the next group, or report idle. */
  #next(): void {
    this.#cancel();
    if (this.#queue.length === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const f of idle) f();
      return;
    }
    this.#committing = true;
    void this.#commit(this.#takeGroup()).finally(() => {
      this.#committing = false;
      // What arrived meanwhile has waited a whole commit already: no delay.
      this.#next();
    });
  }

  async #commit(group: Pending[]): Promise<void> {
    const started = process.hrtime.bigint();
    let results: CommitResult[];
    try {
      results = await this.#store.commitBatches(group.map((p) => p.batch));
      if (results.length !== group.length) throw new SteppeError('STEPPE_ERR_INTERNAL', `store returned ${results.length} results for ${group.length} batches`);
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(err);
        return;
      }
      for (const p of group) await this.#commit([p]);
      return;
    }
    this.#metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.#metrics.groupSize.observe(group.length);
    group.forEach((p, i) => {
      const r = results[i];
      if (r === undefined) p.reject(new SteppeError('STEPPE_ERR_INTERNAL', 'missing commit result'));
      else p.resolve(r);
    });
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    if (this.#maxDelayMs === 0) this.#timer = setImmediate(() => { this.#timer = undefined; this.#next(); });
    else this.#timer = setTimeout(() => { this.#timer = undefined; this.#next(); }, this.#maxDelayMs);
  }

  #cancel(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
  }
}
