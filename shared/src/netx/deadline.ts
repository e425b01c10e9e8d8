/**
 * A step's AbortSignal: aborted when its own timeout passes or when the
 * caller's signal (e.g. the per-target budget) aborts. The timeout's reason is
 * a `TimeoutError` (classified `generic_timeout_error`); a caller's abort
 * keeps its reason when that is a timeout and becomes an `AbortError`
 * (`interrupted`) otherwise. `dispose()` clears the timer and the listener,
 * so thousands of steps leave nothing behind.
 */
export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

/** An error whose name says "the step ran out of time" (DOMException-like, as AbortSignal.timeout uses). */
export function timeoutError(message: string): Error {
  const error = new Error(message);
  error.name = 'TimeoutError';
  return error;
}

function abortError(cause: unknown): Error {
  const error = new Error('operation interrupted', { cause });
  error.name = 'AbortError';
  return error;
}

function isTimeout(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/** A signal that aborts after `timeoutMs` or when `parent` aborts, whichever comes first. */
export function deadline(timeoutMs: number, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const onParentAbort = (): void => {
    const reason: unknown = parent?.reason;
    controller.abort(isTimeout(reason) ? reason : abortError(reason));
  };
  const timer = setTimeout(() => controller.abort(timeoutError(`timed out after ${timeoutMs} ms`)), Math.max(0, timeoutMs));
  if (parent !== undefined) {
    if (parent.aborted) onParentAbort();
    else parent.addEventListener('abort', onParentAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

/** Run `fn` with a deadline signal, always disposing it. */
export async function withDeadline<T>(timeoutMs: number, parent: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const d = deadline(timeoutMs, parent);
  try {
    return await fn(d.signal);
  } finally {
    d.dispose();
  }
}
