/**
 * Where the uplink's waits come from. Real timers by default; tests and the
 * lab pass their own to compress a long outage into milliseconds.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's timers (unref'd: a pending reconnect never keeps a CLI alive). */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
