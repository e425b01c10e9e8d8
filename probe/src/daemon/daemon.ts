import type { Clock } from '@steppe/shared';
import { systemClock } from '@steppe/shared';
import { type GateEvent, RunGate, type RunKind } from '../schedule/run-gate.js';
import type { ScheduledJob, Scheduler } from '../schedule/scheduler.js';
import type { Timers } from '../schedule/timers.js';
import { errorText, type JsonLog } from '@steppe/shared';
import type { RunHistory, RunRecord } from './run-history.js';

/** What the daemon needs of the uplink (probe/src/uplink `Uplink`). */
export interface UplinkPort {
  start(): void;
  flush(options: { timeoutMs: number; signal?: AbortSignal }): Promise<{ acked: number; pending: number }>;
  close(): Promise<void>;
}

/** Options of {@link ProbeDaemon}. */
export interface ProbeDaemonOptions {
  readonly schedule: { readonly coreCron: string; readonly fullCron: string; readonly maxJitterSeconds: number; readonly timezone: string };
  readonly scheduler: Scheduler;
  /** One run (executeRun bound to its dependencies). */
  readonly run: (kind: RunKind, signal: AbortSignal) => Promise<RunRecord>;
  readonly history: RunHistory;
  readonly log: JsonLog;
  readonly uplink?: UplinkPort;
  /** Called after each run (e.g. close nothing, notify tests). */
  readonly onRunRecorded?: (run: RunRecord) => void;
  readonly clock?: Clock;
  readonly timers?: Timers;
  readonly random?: () => number;
  /** Shutdown: time a running run gets to finish, then to wind down once aborted, then for the last upload. */
  readonly shutdown?: { readonly finishGraceMs?: number; readonly abandonWaitMs?: number; readonly flushTimeoutMs?: number };
}

/** Shutdown defaults: within Docker's 10 s stop timeout with room to spare. */
export const SHUTDOWN_DEFAULTS = { finishGraceMs: 3_000, abandonWaitMs: 3_000, flushTimeoutMs: 2_000 } as const;

/**
 * The probe daemon (`steppe-probe start`): two cron schedules (the core list
 * every 15 minutes, everything every 6 hours) feeding a RunGate (random
 * delay, no overlap), the uplink streaming the outbox in the background, and
 * a clean stop: no new runs, the running one finished or abandoned, a last
 * upload attempt, the uplink closed. Everything it does is logged as JSON.
 */
export class ProbeDaemon {
  readonly #o: ProbeDaemonOptions;
  readonly #gate: RunGate;
  readonly #jobs: ScheduledJob[] = [];
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(options: ProbeDaemonOptions) {
    this.#o = options;
    this.#gate = new RunGate({
      maxJitterMs: options.schedule.maxJitterSeconds * 1000,
      run: async (kind, signal) => {
        await this.#runAndRecord(kind, signal);
      },
      onEvent: (event) => this.#logGate(event),
      ...(options.timers !== undefined ? { timers: options.timers } : {}),
      ...(options.random !== undefined ? { random: options.random } : {}),
    });
  }

  /** True while a run waits or runs. */
  get busy(): boolean {
    return this.#gate.busy;
  }

  /** Schedule the runs and start the uplink. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const { schedule, scheduler, log } = this.#o;
    this.#jobs.push(scheduler.schedule('core', schedule.coreCron, (at) => this.#gate.trigger('core', at), { timezone: schedule.timezone }));
    this.#jobs.push(scheduler.schedule('full', schedule.fullCron, (at) => this.#gate.trigger('full', at), { timezone: schedule.timezone }));
    this.#o.uplink?.start();
    log.info('daemon_started', {
      core_cron: schedule.coreCron,
      full_cron: schedule.fullCron,
      max_jitter_s: schedule.maxJitterSeconds,
      timezone: schedule.timezone,
    });
  }

  /** Run one of the schedules now (through the gate: same jitter and overlap rules). */
  trigger(kind: RunKind): void {
    this.#gate.trigger(kind, (this.#o.clock ?? systemClock).now());
  }

  /** Stop cleanly; idempotent (a second SIGTERM waits for the first stop). */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const { log } = this.#o;
    const grace = { ...SHUTDOWN_DEFAULTS, ...this.#o.shutdown };
    log.info('daemon_stopping', {});
    for (const job of this.#jobs) job.stop();
    await this.#gate.stop({ finishGraceMs: grace.finishGraceMs, abandonWaitMs: grace.abandonWaitMs });
    if (this.#o.uplink !== undefined) {
      try {
        const result = await this.#o.uplink.flush({ timeoutMs: grace.flushTimeoutMs });
        log.info('upload_flushed', { acked: result.acked, pending: result.pending });
      } catch (err) {
        log.warn('upload_flush_failed', { error: errorText(err) });
      }
      await this.#o.uplink.close();
    }
    log.info('daemon_stopped', {});
  }

  async #runAndRecord(kind: RunKind, signal: AbortSignal): Promise<void> {
    const run = await this.#o.run(kind, signal);
    try {
      this.#o.history.add(run);
    } catch (err) {
      this.#o.log.warn('run_history_write_failed', { error: errorText(err) });
    }
    this.#o.log.log(run.outcome === 'failed' ? 'error' : 'info', 'run_finished', {
      run_id: run.id,
      kind: run.kind,
      outcome: run.outcome,
      lists: run.lists,
      test_list_version: run.testListVersion,
      targets: run.targets,
      measured: run.measured,
      anomalies: run.anomalies.length,
      verdicts: run.verdicts,
      bytes_moved: run.bytesMoved,
      limited_by_budget: run.limitedByBudget,
      collector_reachable: run.connectivity.some((c) => c.reachable),
      duration_ms: run.finishedAtMs - run.startedAtMs,
      error: run.error,
    });
    if (run.limitedByBudget) this.#o.log.warn('budget_reached', { message: 'monthly bandwidth budget reached: running the core list only until next month' });
    this.#o.onRunRecorded?.(run);
  }

  #logGate(event: GateEvent): void {
    const { log } = this.#o;
    switch (event.type) {
      case 'scheduled':
        log.info('run_scheduled', { kind: event.kind, fired_at: new Date(event.firedAtMs).toISOString(), delay_ms: event.delayMs });
        break;
      case 'upgraded':
        log.info('run_upgraded', { kind: event.kind, fired_at: new Date(event.firedAtMs).toISOString() });
        break;
      case 'skipped':
        log.warn('run_skipped', { kind: event.kind, reason: event.reason, fired_at: new Date(event.firedAtMs).toISOString() });
        break;
      case 'started':
        log.info('run_started', { kind: event.kind });
        break;
      case 'finished':
        break;
      case 'failed':
        log.error('run_failed', { kind: event.kind, error: errorText(event.error) });
        break;
      case 'abandoning':
        log.warn('run_abandoned', { kind: event.kind, reason: 'shutting down' });
        break;
    }
  }
}
