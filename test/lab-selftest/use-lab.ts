import { afterAll, afterEach, beforeAll } from 'vitest';
import { type Lab, type LabOptions, startLab } from '../lab/src/index.js';

/** One test file's lab: {@link useLab}. */
export interface LabFixture {
  /** The running lab (set before the first test). */
  readonly lab: Lab;
}

/**
 * Start a lab for the calling test file before its tests, lift every censor
 * rule and clear the event log after each test, and close it after all.
 */
export function useLab(options: LabOptions = {}): LabFixture {
  let started: Lab | undefined;
  beforeAll(async () => {
    started = await startLab(options);
  });
  afterAll(async () => {
    await started?.close();
  });
  afterEach(() => {
    started?.censor.clear();
    started?.log.clear();
  });
  return {
    get lab(): Lab {
      if (started === undefined) throw new Error('the lab is not started: use it inside tests and hooks');
      return started;
    },
  };
}
