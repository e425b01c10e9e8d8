import { SteppeError } from '@steppe/shared';

/** The store could not do what was asked; for a commit, nothing was stored (and nothing may be acked). */
export class StoreError extends SteppeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STEPPE_ERR_STORAGE', message, options);
  }
}
