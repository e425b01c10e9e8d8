import { type ErrorCode, ERROR_CODES, InvalidArgumentError, SteppeError } from '@steppe/shared';
import type { SqliteCommits, WriteOp, WriteOps } from './sqlite-commits.js';
import { StoreError } from './store-error.js';
import { JobBuffers } from './write-job.js';

/**
 * How the SQLite store reaches its one writing connection: a worker thread
 * (WorkerWriteChannel, every database file) or the caller's own thread
 * (InlineWriteChannel, ':memory:' only). Both run the same SqliteCommits
 * with the same packed jobs (write-job.ts) and settle with the same coded
 * errors, so tests on ':memory:' exercise the write path a file store runs.
 */
export interface WriteChannel {
  /** 'thread' when writes run on a worker thread. */
  readonly kind: 'thread' | 'inline';
  /** Where jobs are packed: `run` gives each transferred buffer back here once the writer is done with it. */
  readonly buffers: JobBuffers;
  /**
   * Run one write. Resolves once it committed (durably, for a file);
   * rejects with StoreError (STEPPE_ERR_STORAGE) or InvalidArgumentError.
   * `transfer`: buffers of `args` handed over without a copy (detached after).
   */
  run<K extends WriteOp>(op: K, args: Parameters<WriteOps[K]>, transfer?: readonly ArrayBuffer[]): Promise<ReturnType<WriteOps[K]>>;
  /** False when writes cannot succeed any more (closed, or the writer failed for good). */
  readonly healthy: boolean;
  /** Finish the writes already asked for, then close the connection. */
  close(): Promise<void>;
}

/** Call a write operation by name. */
export function runWriteOp<K extends WriteOp>(commits: WriteOps, op: K, args: Parameters<WriteOps[K]>): ReturnType<WriteOps[K]> {
  const fn = commits[op] as unknown as (...a: Parameters<WriteOps[K]>) => ReturnType<WriteOps[K]>;
  return fn.apply(commits, args);
}

/** An error as it crosses a thread boundary: its code and message. */
export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** The coded form of whatever a write threw (anything uncoded is a storage failure). */
export function toWireError(err: unknown): WireError {
  if (err instanceof SteppeError) return { code: err.code, message: err.message };
  return { code: 'STEPPE_ERR_STORAGE', message: `the write failed, nothing was stored: ${err instanceof Error ? err.message : String(err)}` };
}

/** The error a caller sees for a WireError: the same class and code as on the writer's side. */
export function fromWireError(e: WireError): SteppeError {
  if (e.code === 'STEPPE_ERR_INVALID_ARGUMENT') return new InvalidArgumentError(e.message);
  if (e.code === 'STEPPE_ERR_STORAGE' || !(e.code in ERROR_CODES)) return new StoreError(e.message);
  return new SteppeError(e.code, e.message);
}

/**
 * Writes on the caller's thread, for ':memory:': a worker thread cannot
 * open the caller's in-memory database (each connection to ':memory:' is a
 * database of its own), and an in-memory database has no fsync to move off
 * the event loop. Errors are normalised as a worker's would be.
 */
export class InlineWriteChannel implements WriteChannel {
  readonly kind = 'inline';
  readonly buffers = new JobBuffers();
  readonly #commits: SqliteCommits;
  #closed = false;

  constructor(commits: SqliteCommits) {
    this.#commits = commits;
  }

  get healthy(): boolean {
    return !this.#closed;
  }

  run<K extends WriteOp>(op: K, args: Parameters<WriteOps[K]>, transfer: readonly ArrayBuffer[] = []): Promise<ReturnType<WriteOps[K]>> {
    if (this.#closed) return Promise.reject(new StoreError('the store is closed'));
    try {
      return Promise.resolve(runWriteOp(this.#commits, op, args));
    } catch (err) {
      return Promise.reject(err instanceof SteppeError ? err : fromWireError(toWireError(err)));
    } finally {
      for (const b of transfer) this.buffers.give(b);
    }
  }

  close(): Promise<void> {
    // The connection is the store's reader too: the store closes it.
    this.#closed = true;
    return Promise.resolve();
  }
}
