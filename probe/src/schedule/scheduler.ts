import { createTask, validate } from 'node-cron';
import { InvalidArgumentError } from '@steppe/shared';

/** A recurring job; `stop()` ends it for good. */
export interface ScheduledJob {
  stop(): void;
}

/**
 * Fires callbacks on cron expressions. The daemon only sees this interface,
 * so tests (and the demo's simulated day) drive it by hand with
 * {@link ManualScheduler}; production uses {@link NodeCronScheduler}.
 */
export interface Scheduler {
  /** Call `onFire` each time `cron` matches (in `timezone`). */
  schedule(name: string, cron: string, onFire: (firedAtMs: number) => void, options: { readonly timezone: string }): ScheduledJob;
}

/**
 * node-cron 4 behind the Scheduler interface. The callback only hands the
 * tick to the run gate and returns at once, so node-cron's own overlap and
 * random-delay options are not used: the gate owns both, and tests drive it.
 */
export class NodeCronScheduler implements Scheduler {
  schedule(name: string, cron: string, onFire: (firedAtMs: number) => void, options: { readonly timezone: string }): ScheduledJob {
    if (!validate(cron)) throw new InvalidArgumentError(`schedule ${name}: ${JSON.stringify(cron)} is not a cron expression`);
    const task = createTask(cron, (context) => onFire(context.triggeredAt.getTime()), {
      name: `steppe-${name}`,
      timezone: options.timezone,
    });
    void task.start();
    return { stop: () => void task.destroy() };
  }
}

interface ManualJob {
  readonly name: string;
  readonly cron: string;
  readonly onFire: (firedAtMs: number) => void;
  stopped: boolean;
}

/** A scheduler that fires only when told (tests, simulated replays). */
export class ManualScheduler implements Scheduler {
  readonly #jobs: ManualJob[] = [];

  schedule(name: string, cron: string, onFire: (firedAtMs: number) => void): ScheduledJob {
    const job: ManualJob = { name, cron, onFire, stopped: false };
    this.#jobs.push(job);
    return {
      stop: () => {
        job.stopped = true;
      },
    };
  }

  /** Fire every live job named `name`; returns how many fired. */
  fire(name: string, atMs: number): number {
    let fired = 0;
    for (const job of this.#jobs) {
      if (job.name === name && !job.stopped) {
        job.onFire(atMs);
        fired += 1;
      }
    }
    return fired;
  }

  /** Names and expressions of live jobs. */
  jobs(): { name: string; cron: string }[] {
    return this.#jobs.filter((j) => !j.stopped).map(({ name, cron }) => ({ name, cron }));
  }
}
