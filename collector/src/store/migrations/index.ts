import { migration001 } from './001-initial.js';
import { migration002 } from './002-daily-rollup.js';
import { migration003 } from './003-connectivity-activity.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration, in order. Append new ones; never edit or reorder old ones. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003];
