import { setFlagsFromString } from 'node:v8';

/**
 * The V8 settings the probe applies to its own process, so a volunteer who runs
 * `npx steppe-probe start` gets the same small footprint as the systemd unit
 * and the Docker image (figures: bench/probe-footprint/RESULTS.md).
 *
 * - `--liftoff-only`, for every command: undici parses HTTP/1.1 with llhttp
 *   compiled to WebAssembly. Once llhttp is hot, V8 re-compiles its one huge
 *   parser function with TurboFan on a background thread, which holds about
 *   30 MiB of compiler memory for half a second: that was the probe's peak
 *   RSS. The baseline (Liftoff) code parses the probe's few, capped bodies
 *   just as well (CPU per run unchanged in the bench). It only has effect
 *   before the first WebAssembly module compiles; netx loads undici on the
 *   first HTTP request, long after this runs.
 * - `--optimize-for-size`, for the daemon (`start`) only: V8 then grows the
 *   old generation more conservatively before a full collection (a run's
 *   garbage is collected sooner) and trims more when idle: about -10 MiB idle
 *   and at the peak of a 553-URL run, for ~10% more CPU in a run.
 * - `--semi-space-growth-factor=1`, for the daemon (`start`) only: V8 doubles
 *   the young generation (up to 2 x 16 MiB) whenever objects survive
 *   scavenges, and keeps it; capping it at the initial 1 MiB semi-space is
 *   what `--max-semi-space-size=1` does in the unit and the image (-20 MiB
 *   idle and at peak, ~10% more CPU in a run), but that flag is only read at
 *   start-up, whereas the growth factor is read each time the space would
 *   grow. Skipped when the user already chose a semi-space size.
 *
 * V8 documents changing flags after start-up as "use with care": these are
 * heuristics V8 reads when it needs them (when a WebAssembly module compiles,
 * when the young generation would grow, when it sizes the heap), not
 * settings it caches at start-up; probe/test/cli/v8-tuning.test.ts checks
 * that the young-generation one takes effect, the footprint bench the rest.
 */
export function probeV8Flags(command: string | undefined, context: { readonly execArgv: readonly string[]; readonly nodeOptions: string | undefined }): string[] {
  const flags = ['--liftoff-only'];
  const chosen = [...context.execArgv, ...(context.nodeOptions ?? '').split(/\s+/)].some((f) => /^--((max|min)[-_])?semi[-_]space[-_](size|growth[-_]factor)/.test(f));
  if (command === 'start') {
    flags.push('--optimize-for-size');
    if (!chosen) flags.push('--semi-space-growth-factor=1');
  }
  return flags;
}

/** Apply {@link probeV8Flags} to this process (the probe's bin, through `main`); returns the flags set. */
export function tuneV8ForProbe(command: string | undefined): string[] {
  const flags = probeV8Flags(command, { execArgv: process.execArgv, nodeOptions: process.env['NODE_OPTIONS'] });
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
