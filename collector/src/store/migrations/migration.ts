/** One schema step (the runner and this type are shared with the probe's outbox). */
export type { Migration } from '@steppe/shared';
