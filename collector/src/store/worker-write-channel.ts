import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CommitOptions, WriteOp, WriteOps } from './sqlite-commits.js';
import { StoreError } from './store-error.js';
import { type WireError, type WriteChannel, fromWireError } from './write-channel.js';
import { JobBuffers, WRITER_PROTOCOL } from './write-job.js';

/** What the writer thread is started with. */
export interface WriterConfig extends CommitOptions {
  readonly path: string;
  readonly cacheMiB: number;
  readonly protocol: number;
}

/** A request to the writer thread. 'crash' is a test hook (the thread exits at once). */
export interface WriterRequest {
  readonly id: number;
  readonly op: WriteOp | 'close' | 'crash';
  readonly args: readonly unknown[];
  /** The buffers of `args` transferred with it; the answer hands them back. */
  readonly transfer: readonly ArrayBuffer[];
}

/** The writer thread's answer to one request, with the request's buffers. */
export type WriterReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown; readonly returned: readonly ArrayBuffer[] }
  | { readonly id: number; readonly ok: false; readonly error: WireError; readonly returned: readonly ArrayBuffer[] };

/** The first message of a writer thread. */
type WriterHello = { readonly ready: true } | { readonly fatal: WireError };

interface PendingWrite {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, PendingWrite>;
  alive: boolean;
  /** Closing: the thread keeps the process alive until it has exited. */
  closing: boolean;
}

/** Crashes within CRASH_WINDOW_MS after which the writer is not restarted: the store is unhealthy. */
const MAX_CRASHES = 3;
const CRASH_WINDOW_MS = 60_000;

/** The writer script next to this module (dist/), or dist's when running from TypeScript sources (tests). */
function writerScript(): URL {
  const candidates = [new URL('./sqlite-writer-thread.js', import.meta.url)];
  if (import.meta.url.endsWith('.ts')) candidates.push(new URL('../../dist/store/sqlite-writer-thread.js', import.meta.url));
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) throw new StoreError('the SQLite writer thread script is missing (build the collector: npm run build)');
  return found;
}

/**
 * The SQLite store's writes on a worker thread that owns the write
 * connection (sqlite-writer-thread.ts): the event loop never waits for a
 * transaction or its fsync, and the thread runs requests one at a time in
 * the order sent, as the one connection did before.
 *
 * A thread that dies (a crash, out of memory) fails every write in flight
 * with STEPPE_ERR_STORAGE — their fate is unknown, so nothing is acked;
 * a batch that did commit comes back as duplicates when the probe resends —
 * and the next write starts a new thread. After MAX_CRASHES within a
 * minute it stays down: every write fails and the store reports unhealthy
 * (/healthz 503), for the operator or the supervisor to restart.
 */
export class WorkerWriteChannel implements WriteChannel {
  readonly kind = 'thread';
  readonly buffers = new JobBuffers();
  readonly #script: URL;
  readonly #config: WriterConfig;
  #current: Promise<Thread> | undefined;
  #crashes: number[] = [];
  #broken: StoreError | undefined;
  #closed = false;
  #nextId = 1;

  private constructor(config: WriterConfig) {
    this.#script = writerScript();
    this.#config = config;
  }

  /** Start the writer thread; resolves once it opened the database. */
  static async open(config: Omit<WriterConfig, 'protocol'>): Promise<WorkerWriteChannel> {
    const channel = new WorkerWriteChannel({ ...config, protocol: WRITER_PROTOCOL });
    await channel.#thread();
    return channel;
  }

  get healthy(): boolean {
    return !this.#closed && this.#broken === undefined;
  }

  async run<K extends WriteOp>(op: K, args: Parameters<WriteOps[K]>, transfer: readonly ArrayBuffer[] = []): Promise<ReturnType<WriteOps[K]>> {
    return (await this.#send(op, args, transfer)) as ReturnType<WriteOps[K]>;
  }

  /** Test hook: the thread exits at this message, as after a fatal error; writes sent after it fail. */
  simulateCrash(): void {
    void this.#send('crash', [], []).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const current = this.#current;
    if (current === undefined) return;
    let thread: Thread;
    try {
      thread = await current;
    } catch {
      return; // never started: nothing to close
    }
    if (!thread.alive) return;
    thread.closing = true;
    thread.worker.ref();
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
    try {
      await this.#post(thread, 'close', [], []);
    } finally {
      await exited;
    }
  }

  async #send(op: WriterRequest['op'], args: readonly unknown[], transfer: readonly ArrayBuffer[]): Promise<unknown> {
    if (this.#closed) throw new StoreError('the store is closed');
    if (this.#broken !== undefined) throw this.#broken;
    return this.#post(await this.#thread(), op, args, transfer);
  }

  #post(thread: Thread, op: WriterRequest['op'], args: readonly unknown[], transfer: readonly ArrayBuffer[]): Promise<unknown> {
    if (!thread.alive) return Promise.reject(new StoreError('the SQLite writer thread stopped; nothing was stored'));
    return new Promise<unknown>((resolve, reject) => {
      const id = this.#nextId++;
      thread.pending.set(id, { resolve, reject });
      if (thread.pending.size === 1) thread.worker.ref();
      const request: WriterRequest = { id, op, args, transfer };
      thread.worker.postMessage(request, transfer as ArrayBuffer[]);
    });
  }

  #thread(): Promise<Thread> {
    if (this.#current === undefined) {
      const started = this.#start();
      this.#current = started;
      started.catch(() => {
        if (this.#current === started) this.#current = undefined;
      });
    }
    return this.#current;
  }

  #start(): Promise<Thread> {
    return new Promise<Thread>((resolve, reject) => {
      const worker = new Worker(this.#script, { workerData: this.#config });
      const thread: Thread = { worker, pending: new Map(), alive: true, closing: false };
      let ready = false;
      worker.on('message', (message: WriterReply | WriterHello) => {
        if (!ready) {
          if ('ready' in message) {
            ready = true;
            // Idle, the thread does not keep the process alive; a write in flight does.
            if (thread.pending.size === 0) worker.unref();
            resolve(thread);
          } else if ('fatal' in message) {
            reject(fromWireError(message.fatal));
          }
          return;
        }
        if (!('id' in message)) return;
        const p = thread.pending.get(message.id);
        if (p === undefined) return;
        thread.pending.delete(message.id);
        if (thread.pending.size === 0 && !thread.closing) worker.unref();
        for (const b of message.returned ?? []) this.buffers.give(b);
        if (message.ok) p.resolve(message.value);
        else p.reject(fromWireError(message.error));
      });
      let failure: Error | undefined;
      worker.on('error', (err) => {
        failure = err;
      });
      worker.on('exit', (code) => {
        thread.alive = false;
        const why = failure?.message ?? `exit code ${code}`;
        if (!ready) reject(new StoreError(`the SQLite writer thread did not start (${why})`, { cause: failure }));
        else if (!this.#closed) this.#crashed(why);
        for (const p of thread.pending.values()) p.reject(new StoreError(`the SQLite writer thread stopped (${why}); this write may not have committed and was not acknowledged`, { cause: failure }));
        thread.pending.clear();
      });
    });
  }

  #crashed(why: string): void {
    this.#current = undefined; // the next write starts another thread
    const now = Date.now();
    this.#crashes = this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.#crashes.push(now);
    if (this.#crashes.length >= MAX_CRASHES) {
      this.#broken = new StoreError(`the SQLite writer thread failed ${this.#crashes.length} times within a minute (last: ${why}); writes are refused until the collector restarts`);
    }
  }
}
