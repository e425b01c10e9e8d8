/**
 * Run a step; when it fails, wait a moment and run it once more, recording
 * both attempts (attempt 0, then 1). A failure that disappears on the retry
 * is not an anomaly (the verdict takes the retry's result), so a flaky
 * network does not read as censorship. Failures that a retry cannot change
 * are not retried: the probe's own egress policy, and an answer saying a
 * name has no address of that type.
 */
export async function withRetry<T>(
  run: (attempt: number) => Promise<T>,
  failureOf: (result: T) => string,
  options: { readonly delayMs: number; readonly signal: AbortSignal },
): Promise<T> {
  const first = await run(0);
  const failure = failureOf(first);
  if (failure === '' || NOT_RETRIED.has(failure) || options.signal.aborted) return first;
  await sleep(options.delayMs, options.signal);
  if (options.signal.aborted) return first;
  return run(1);
}

const NOT_RETRIED: ReadonlySet<string> = new Set(['blocked_by_policy', 'dns_no_answer']);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
