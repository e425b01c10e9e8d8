import { type Clock, encodeMeasurement, idToString, type MeasurementProps, newId, systemClock } from '@steppe/shared';
import type { BandwidthBudget } from '../budget/bandwidth-budget.js';
import type { ConnectivityResult } from '../connectivity/connectivity-test.js';
import type { EngineOptions, Target } from '../experiments/engine-options.js';
import type { MeasureHooks, Traffic } from '../experiments/measure-targets.js';
import type { PublicAddressSet } from '../privacy/public-address.js';
import { scrubMeasurement } from '../privacy/scrub-measurement.js';
import type { RunKind } from '../schedule/run-gate.js';
import type { Category } from '../testlists/categories.js';
import { CORE_LIST_NAME } from '../testlists/core.js';
import { type CategoryFilter, planRun } from '../testlists/select.js';
import type { TestListCatalog } from '../testlists/store.js';
import type { AnomalyNote, RunRecord } from './run-history.js';

/** The engine's entry point (`measureTargets` of probe/src/experiments); tests pass a fake. */
export type MeasureTargets = (targets: Target[], options: EngineOptions, hooks: MeasureHooks) => Promise<void>;

/** Where finished measurements go: the outbox (`Outbox.enqueue`). */
export interface MeasurementSink {
  enqueue(bytes: Uint8Array, meta: { readonly id: Uint8Array; readonly startTimeMs: number }): unknown;
}

/** Progress of a run, for the CLI's progress bar. */
export interface RunProgress {
  readonly done: number;
  readonly total: number;
  readonly url: string;
  readonly verdict: string;
  readonly anomaly: boolean;
}

/** Everything one run needs; the daemon and `run --once` build it once. */
export interface ProbeRunDeps {
  readonly measureTargets: MeasureTargets;
  readonly engineOptions: EngineOptions;
  readonly sink: MeasurementSink;
  readonly budget: BandwidthBudget;
  readonly addresses: PublicAddressSet;
  readonly catalog: () => TestListCatalog;
  readonly fullLists: readonly string[];
  readonly filter: CategoryFilter;
  readonly legend?: readonly Category[];
  /** The connectivity checks of this run (control and collectors). */
  readonly checkConnectivity: (signal: AbortSignal) => Promise<ConnectivityResult[]>;
  readonly clock?: Clock;
  /** Targets per engine call after the core list; the budget is checked between calls. */
  readonly chunkSize?: number;
  /** A measurement was committed to the outbox (the uplink sends it now). */
  readonly onStored?: () => void;
  readonly onProgress?: (progress: RunProgress) => void;
}

const MAX_ANOMALIES_KEPT = 50;

/**
 * One run: the connectivity checks first (they teach the probe its public
 * address, so even the first measurement is scrubbed), then the core list,
 * then — for a full run with budget left — the other lists in chunks,
 * checking the monthly budget between chunks. Each measurement is charged to
 * the budget, scrubbed of the probe's addresses, encoded and committed to the
 * outbox before anything else happens with it. Aborting `signal` stops the
 * run between measurements; what was stored stays stored.
 */
export async function executeRun(kind: RunKind, trigger: RunRecord['trigger'], deps: ProbeRunDeps, signal: AbortSignal): Promise<RunRecord> {
  const clock = deps.clock ?? systemClock;
  const startedAtMs = clock.now();
  const id = idToString(newId(Math.max(1, Math.round(startedAtMs))));
  const verdicts: Record<string, number> = {};
  const anomalies: AnomalyNote[] = [];
  const connectivity: RunRecord['connectivity'][number][] = [];
  let measured = 0;
  let bytesMoved = 0;
  let done = 0;

  const charge = (bytes: number): void => {
    bytesMoved += bytes;
    deps.budget.add(bytes);
  };
  const store = (m: MeasurementProps): MeasurementProps => {
    const { measurement } = scrubMeasurement(m, deps.addresses.scrubForms());
    deps.sink.enqueue(encodeMeasurement(measurement), { id: measurement.id, startTimeMs: measurement.startTimeMs });
    measured += 1;
    deps.onStored?.();
    return measurement;
  };

  const catalog = deps.catalog();
  let plan = planRun({ kind, catalog, fullLists: deps.fullLists, filter: deps.filter, budgetExhausted: deps.budget.exhausted(), ...(deps.legend ? { legend: deps.legend } : {}) });
  let limitedByBudget = plan.limitedByBudget;
  let outcome: RunRecord['outcome'] = 'completed';
  let error: string | undefined;

  try {
    for (const result of await deps.checkConnectivity(signal)) {
      if (result.clientAddress !== undefined) deps.addresses.add(result.clientAddress);
      charge(result.bytesMoved);
      const m = store(result.measurement);
      connectivity.push({ url: m.input ?? '', role: m.annotations?.['connectivity_role'] ?? '', reachable: result.reachable, failure: m.analysis?.failure ?? '' });
    }

    // The engine reports the control's echo of our address before the measurement it came with.
    const onClientAddress = (address: string): void => {
      deps.addresses.add(address);
    };
    const onMeasurement = (m: MeasurementProps, traffic: Traffic): void => {
      charge(traffic.bytesSent + traffic.bytesReceived);
      const stored = store(m);
      const a = stored.analysis;
      const verdict = a?.verdict !== undefined && a.verdict !== null && a.verdict !== '' ? a.verdict : 'none';
      verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
      if (a?.anomaly === true && anomalies.length < MAX_ANOMALIES_KEPT) {
        anomalies.push({ url: stored.input ?? '', verdict, blockingType: a.blockingType ?? '', failure: a.failure ?? '', confirmed: a.confirmed === true });
      }
      done += 1;
      deps.onProgress?.({ done, total: plan.targets.length, url: stored.input ?? '', verdict, anomaly: a?.anomaly === true });
    };

    const core = plan.targets.filter((t) => t.testList === CORE_LIST_NAME);
    const rest = plan.targets.filter((t) => t.testList !== CORE_LIST_NAME);
    if (core.length > 0 && !signal.aborted) await deps.measureTargets(core, deps.engineOptions, { signal, onMeasurement, onClientAddress });
    const chunkSize = deps.chunkSize ?? 50;
    for (let i = 0; i < rest.length && !signal.aborted; i += chunkSize) {
      if (deps.budget.exhausted()) {
        // Spent mid-run: what is left of the full lists waits for next month.
        limitedByBudget = true;
        plan = { ...plan, targets: plan.targets.slice(0, core.length + i) };
        break;
      }
      await deps.measureTargets(rest.slice(i, i + chunkSize), deps.engineOptions, { signal, onMeasurement, onClientAddress });
    }
    if (signal.aborted) outcome = 'aborted';
  } catch (err) {
    outcome = signal.aborted ? 'aborted' : 'failed';
    error = err instanceof Error ? err.message : String(err);
  } finally {
    deps.budget.flush();
  }

  return {
    id,
    kind,
    trigger,
    startedAtMs,
    finishedAtMs: clock.now(),
    outcome,
    lists: plan.lists,
    testListVersion: catalog.version,
    targets: plan.targets.length,
    measured,
    verdicts,
    anomalies,
    bytesMoved,
    limitedByBudget,
    connectivity,
    ...(error !== undefined ? { error } : {}),
  };
}
