import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings the probe applies to its own process, so a volunteer who runs
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
 * - `--semi-space-growth-factor=1`, for the daemon (`start`) only: V8 doubles
 *   the young generation (up to 2 x 16 MiB) whenever objects survive
 *   scavenges, and keeps it; capping it at the initial 1 MiB semi-space is
 *   what `--max-semi-space-size=1` does in the unit and the image (-20 MiB
 *   idle and at peak, ~10% more CPU in a run), but that flag is only read at
 *   start-up, whereas the growth factor is read each time the space would
 *   grow. Skipped when the user already chose a semi-space size.
 *
 * V8 documents changing flags after start-up as "use with care": both flags
 * are read only when a module compiles or the young generation grows, so
 * setting them before either happens is safe.
 */
export function tuneV8ForProbe(command: string | undefined, context: { readonly execArgv: readonly string[]; readonly nodeOptions: string | undefined } = {
  execArgv: process.execArgv,
  nodeOptions: process.env['NODE_OPTIONS'],
}): string[] {
  const flags = ['--liftoff-only'];
  const chosen = [...context.execArgv, ...(context.nodeOptions ?? '').split(/\s+/)].some((f) => /^--((max|min)[-_])?semi[-_]space[-_](size|growth[-_]factor)/.test(f));
  if (command === 'start' && !chosen) flags.push('--semi-space-growth-factor=1');
  for (const flag of flags) setFlagsFromString(flag);
  return flags;
}
