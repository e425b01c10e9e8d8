import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SteppeError } from '@steppe/shared';
import { type Category, parseCategoryLegend } from './categories.js';
import { type ParsedTestList, parseTestList } from '@steppe/shared';

/**
 * Version of the Citizen Lab lists shipped in probe/data/test-lists/
 * (the citizenlab/test-lists commit they were copied from; SOURCES.md).
 */
export const SHIPPED_LISTS_VERSION = 'citizenlab-7f01e430';

/** Names of the lists shipped with the probe. */
export const SHIPPED_LIST_NAMES = ['kz', 'global'] as const;

/** The folder holding the shipped lists (the same from src/ and dist/). */
export function shippedListsDir(): string {
  return fileURLToPath(new URL('../../data/test-lists/', import.meta.url));
}

function readShipped(file: string): string {
  const path = `${shippedListsDir()}${file}`;
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_TEST_LIST', `shipped test list ${path} is missing: the installation is incomplete`, { cause });
  }
}

/** Parse one shipped list ("kz" or "global"); bad rows are in `problems`. */
export function loadShippedList(name: (typeof SHIPPED_LIST_NAMES)[number]): ParsedTestList {
  return parseTestList(readShipped(`${name}.csv`), name);
}

/** Citizen Lab's current category legend, shipped with the lists. */
export function loadCategoryLegend(): Category[] {
  return parseCategoryLegend(readShipped('00-LEGEND-new_category_codes.csv'));
}
