import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SteppeError } from '@steppe/shared';

/**
 * A child process spoken to in JSON lines: each message sent carries an `id`,
 * each line that comes back with the same `id` answers it. Used for the world
 * lab and the in-namespace client agents, so a test pays a process start-up
 * once per namespace, not once per operation.
 */
export class LineChannel {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, { resolve: (line: Record<string, unknown>) => void; reject: (err: Error) => void }>();
  readonly #unsolicited: ((line: Record<string, unknown>) => void)[] = [];
  /** Lines that answered no request and found no waiter yet. */
  readonly #unclaimed: Record<string, unknown>[] = [];
  #nextId = 1;
  #stderr = '';
  #exited = false;
  readonly #exit: Promise<void>;

  constructor(argv: readonly string[], readonly what: string) {
    const [command, ...args] = argv;
    if (command === undefined) throw new SteppeError('STEPPE_ERR_LAB', `${what}: empty command`);
    this.#child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      // Keep the tail only: enough to explain a failure.
      this.#stderr = (this.#stderr + chunk).slice(-8192);
    });
    this.#child.stdin.on('error', () => undefined);
    this.#exit = new Promise((resolve) => {
      this.#child.once('close', () => {
        this.#exited = true;
        const error = new SteppeError('STEPPE_ERR_LAB', `${what} exited: ${this.#stderr.trim()}`);
        for (const waiter of this.#pending.values()) waiter.reject(error);
        this.#pending.clear();
        resolve();
      });
    });
    this.#child.once('error', (err) => {
      for (const waiter of this.#pending.values()) waiter.reject(new SteppeError('STEPPE_ERR_LAB', `${what}: ${err.message}`, { cause: err }));
      this.#pending.clear();
    });
    createInterface({ input: this.#child.stdout }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return; // not protocol output
      }
      const id = typeof line['id'] === 'number' ? line['id'] : undefined;
      const waiter = id === undefined ? undefined : this.#pending.get(id);
      if (id !== undefined && waiter !== undefined) {
        this.#pending.delete(id);
        waiter.resolve(line);
      } else {
        const waiter = this.#unsolicited.shift();
        if (waiter === undefined) this.#unclaimed.push(line);
        else waiter(line);
      }
    });
  }

  /** The stderr tail, for error messages. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The next line that answers no request (e.g. a "ready" line), or a failure after `timeoutMs`. */
  nextUnsolicited(timeoutMs: number): Promise<Record<string, unknown>> {
    const waiting = this.#unclaimed.shift();
    if (waiting !== undefined) return Promise.resolve(waiting);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new SteppeError('STEPPE_ERR_LAB', `${this.what} said nothing within ${timeoutMs} ms: ${this.#stderr.trim()}`)), timeoutMs);
      this.#unsolicited.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void this.#exit.then(() => {
        clearTimeout(timer);
        reject(new SteppeError('STEPPE_ERR_LAB', `${this.what} exited: ${this.#stderr.trim()}`));
      });
    });
  }

  /** Send `message` with a fresh id; resolves with the line answering it. */
  request(message: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.#exited) return Promise.reject(new SteppeError('STEPPE_ERR_LAB', `${this.what} has exited: ${this.#stderr.trim()}`));
    const id = this.#nextId;
    this.#nextId += 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new SteppeError('STEPPE_ERR_LAB', `${this.what} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (line) => { clearTimeout(timer); resolve(line); },
        reject: (err) => { clearTimeout(timer); reject(err); },
      });
      this.#child.stdin.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  }

  /** Close stdin (the child's cue to stop), then kill it if it has not exited after `graceMs`. */
  async close(graceMs = 5_000): Promise<void> {
    if (!this.#exited) {
      this.#child.stdin.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      await this.#exit;
      clearTimeout(timer);
    }
  }
}
