import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SteppeError } from '@steppe/shared';
import type { JsonlPage } from './jsonl-page.js';

/**
 * Worker threads that write JSON Lines pages (jsonl-page.ts) while the main
 * thread reads the store and writes the response: the transcoding is most
 * of an export's CPU, and a collector has more than one core. Pages are
 * independent jobs, so concurrent exports share the pool; results come
 * back per page and the caller keeps them in order.
 */

interface PendingPage {
  readonly resolve: (bytes: Buffer) => void;
  readonly reject: (err: Error) => void;
}

interface PoolWorker {
  readonly worker: Worker;
  readonly pending: Map<number, PendingPage>;
}

interface WorkerReply {
  readonly id: number;
  readonly bytes?: Uint8Array;
  readonly error?: string;
}

/** The worker script next to this module (dist/), or dist's when running from TypeScript sources (tests). */
function workerScript(): URL | undefined {
  const candidates = [new URL('./jsonl-worker.js', import.meta.url)];
  if (import.meta.url.endsWith('.ts')) candidates.push(new URL('../../dist/export/jsonl-worker.js', import.meta.url));
  return candidates.find((url) => existsSync(fileURLToPath(url)));
}

/** A pool of JSON Lines workers, started on first use and stopped when idle. */
export class JsonlWorkerPool {
  readonly size: number;
  readonly #idleMs: number;
  readonly #script: URL | undefined;
  readonly #workers: PoolWorker[] = [];
  #nextId = 1;
  #idleTimer: NodeJS.Timeout | undefined;

  /** `size` workers at most; they exit after `idleMs` without work (default 30 s). */
  constructor(size: number, options: { readonly idleMs?: number } = {}) {
    if (!Number.isInteger(size) || size < 1 || size > 64) throw new SteppeError('STEPPE_ERR_INVALID_ARGUMENT', `exportWorkers: expected an integer from 1 to 64, got ${size}`);
    this.size = size;
    this.#idleMs = options.idleMs ?? 30_000;
    this.#script = workerScript();
  }

  /** False when the worker script is missing (sources not built): callers export on the main thread. */
  get available(): boolean {
    return this.#script !== undefined;
  }

  /** Write one page's lines in a worker. Rejects with the error the page raised (e.g. a corrupt measurement). */
  run(page: JsonlPage): Promise<Buffer> {
    const target = this.#pick();
    const id = this.#nextId++;
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    return new Promise<Buffer>((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.ref();
      const transfer = [page.raw.buffer, page.ends.buffer, page.ids.buffer, page.numbers.buffer, page.text.buffer, page.sequences.buffer, page.batchBytes.buffer, page.batchEnds.buffer] as ArrayBuffer[];
      target.worker.postMessage({ id, page }, transfer);
    });
  }

  /** Stop every worker (pages in flight are rejected). */
  async close(): Promise<void> {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    const workers = this.#workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  #pick(): PoolWorker {
    let best: PoolWorker | undefined;
    for (const w of this.#workers) if (best === undefined || w.pending.size < best.pending.size) best = w;
    if (best !== undefined && (best.pending.size === 0 || this.#workers.length >= this.size)) return best;
    return this.#start();
  }

  #start(): PoolWorker {
    if (this.#script === undefined) throw new SteppeError('STEPPE_ERR_INTERNAL', 'the JSON Lines worker script is missing (build the collector)');
    const worker = new Worker(this.#script);
    const entry: PoolWorker = { worker, pending: new Map() };
    this.#workers.push(entry);
    const fail = (err: Error): void => {
      const at = this.#workers.indexOf(entry);
      if (at >= 0) this.#workers.splice(at, 1);
      for (const p of entry.pending.values()) p.reject(err);
      entry.pending.clear();
    };
    worker.on('message', (reply: WorkerReply) => {
      const p = entry.pending.get(reply.id);
      if (p === undefined) return;
      entry.pending.delete(reply.id);
      if (reply.bytes !== undefined) p.resolve(Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength));
      else p.reject(new SteppeError('STEPPE_ERR_INTERNAL', reply.error ?? 'export worker failed'));
      if (entry.pending.size === 0) worker.unref();
      this.#idleCheck();
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new SteppeError('STEPPE_ERR_INTERNAL', `export worker exited (code ${code})`)));
    worker.unref();
    return entry;
  }

  #idleCheck(): void {
    if (this.#workers.some((w) => w.pending.size > 0) || this.#idleTimer !== undefined) return;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#workers.every((w) => w.pending.size === 0)) void this.close();
    }, this.#idleMs);
    this.#idleTimer.unref();
  }
}
