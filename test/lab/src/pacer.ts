import type { ServerResponse } from 'node:http';

/** Interval between paced writes: small enough for a smooth rate, large enough to be cheap. */
const TICK_MS = 50;

/**
 * Write `body` to `res` at about `bitsPerSecond` (a shaper on the response
 * body, as a throttling middlebox does), then end it. Returns a function that
 * stops pacing (the lab calls it when closing). Stops by itself when the
 * client goes away.
 */
export function pacedEnd(res: ServerResponse, body: Buffer, bitsPerSecond: number, onDone: () => void): () => void {
  const perTick = Math.max(1, Math.floor((bitsPerSecond / 8) * (TICK_MS / 1000)));
  let offset = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    onDone();
  };
  const tick = (): void => {
    timer = undefined;
    if (stopped || res.destroyed) {
      stop();
      return;
    }
    const chunk = body.subarray(offset, offset + perTick);
    offset += chunk.length;
    if (offset >= body.length) {
      res.end(chunk);
      stop();
      return;
    }
    res.write(chunk);
    timer = setTimeout(tick, TICK_MS);
  };
  res.on('close', stop);
  tick();
  return stop;
}
