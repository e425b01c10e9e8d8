import { EgressGuard, InvalidArgumentError, type Measurement, defaultVerdictReference } from '@steppe/shared';
import { type EngineOptions, type Target } from './engine-options.js';
import { measureWebConnectivity } from './web-connectivity/web-connectivity.js';

/** Bytes a measurement moved on the volunteer's link (control call included). */
export interface Traffic {
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

/** Callbacks of `measureTargets`. */
export interface MeasureHooks {
  /** Stops the run: no new target starts; targets in flight are abandoned (no measurement for them). */
  readonly signal?: AbortSignal;
  /** Called once per finished target, in completion order; awaited (so a slow sink applies back-pressure). */
  readonly onMeasurement: (m: Measurement, traffic: Traffic) => void | Promise<void>;
  /** The probe's public address as the control echoed it: only ever used to scrub it from stored data. */
  readonly onClientAddress?: (address: string) => void;
}

/** Why `url` cannot be measured by web_connectivity, or undefined. */
export function targetProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL: ${JSON.stringify(url.slice(0, 80))}`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `not an http:// or https:// URL: ${JSON.stringify(url.slice(0, 80))}`;
  if (parsed.hostname === '') return `URL has no host: ${JSON.stringify(url.slice(0, 80))}`;
  if (url.length > 4096) return 'URL longer than 4096 characters';
  return undefined;
}

function checkOptions(options: EngineOptions): void {
  const bad = (what: string): never => {
    throw new InvalidArgumentError(`measureTargets: ${what}`);
  };
  if (options.probeId.length === 0) bad('probeId is empty');
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1 || options.concurrency > 256) bad('concurrency must be an integer from 1 to 256');
  if (!Number.isFinite(options.perTargetTimeoutMs) || options.perTargetTimeoutMs < 100) bad('perTargetTimeoutMs must be at least 100');
  if (!Number.isInteger(options.maxBodyBytes) || options.maxBodyBytes < 1) bad('maxBodyBytes must be a positive integer');
  if (options.controlSni.length === 0) bad('controlSni is empty');
}

/**
 * Measure every target with web_connectivity, at most `options.concurrency`
 * at once, handing each Measurement to `hooks.onMeasurement` as it finishes.
 * Every target is validated first (an InvalidArgumentError names the bad
 * one; nothing is measured then). Resolves when all are done or the run was
 * stopped through `hooks.signal`; rejects if `onMeasurement` throws (after the
 * targets in flight finish).
 */
export async function measureTargets(targets: Target[], options: EngineOptions, hooks: MeasureHooks): Promise<void> {
  checkOptions(options);
  targets.forEach((t, i) => {
    const problem = targetProblem(t.url);
    if (problem !== undefined) throw new InvalidArgumentError(`target ${i + 1}: ${problem}`);
  });
  const guard = new EgressGuard(options.allowNet);
  const reference = defaultVerdictReference(options.interceptionRootsPem !== undefined ? { extraInterceptionRootPems: options.interceptionRootsPem } : {});
  const ctx = { options, guard, reference, signal: hooks.signal };
  let next = 0;
  let failed: { error: unknown } | undefined;
  const stopped = (): boolean => hooks.signal?.aborted === true;
  const worker = async (): Promise<void> => {
    while (failed === undefined && !stopped()) {
      const target = targets[next];
      next += 1;
      if (target === undefined) return;
      const result = await measureWebConnectivity(target, ctx);
      // A target cut short by the run stopping is our doing, not the network's: drop it.
      if (stopped()) return;
      try {
        if (result.clientAddress !== undefined) hooks.onClientAddress?.(result.clientAddress);
        await hooks.onMeasurement(result.measurement, result.traffic);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, targets.length) }, worker));
  if (failed !== undefined) throw failed.error;
}
