import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SteppeError } from '@steppe/shared';
import { writeFileAtomic } from '../config/json-file.js';
import { type TestListBundle, parseTestListBundle } from '@steppe/shared';
import type { ParsedTestList, TestListProblem } from '@steppe/shared';
import { CORE_LIST_NAME, CORE_LIST_VERSION, coreListEntries } from './core.js';
import { loadShippedList, SHIPPED_LIST_NAMES, SHIPPED_LISTS_VERSION } from './shipped.js';

/** Where an accepted collector bundle is kept, inside the data directory. */
export const COLLECTOR_BUNDLE_FILE = join('test-lists', 'collector-bundle.json');

/** One list ready to measure. */
export interface AvailableList extends ParsedTestList {
  /** The version measurements carry in `test_list_version`. */
  readonly version: string;
  readonly origin: 'built-in' | 'shipped' | 'collector';
}

/** The lists in use and how they were obtained. */
export interface TestListCatalog {
  /** The collector bundle version in use, or the shipped version. */
  readonly version: string;
  readonly lists: ReadonlyMap<string, AvailableList>;
  /** Rows skipped in shipped lists, and why a stored bundle was not used. */
  readonly problems: { readonly list: string; readonly problem: TestListProblem }[];
}

/**
 * The probe's test lists: the built-in core list and the shipped Citizen Lab
 * lists, overridden list by list by the last bundle a collector pushed (kept
 * in the data directory). Installing a new bundle validates it first; a bad
 * one is refused and the lists in use stay as they were.
 */
export class TestListStore {
  readonly #dataDir: string;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  /** Path of the stored collector bundle. */
  get bundlePath(): string {
    return join(this.#dataDir, COLLECTOR_BUNDLE_FILE);
  }

  /** The lists in use now. */
  load(): TestListCatalog {
    const lists = new Map<string, AvailableList>();
    const problems: { list: string; problem: TestListProblem }[] = [];
    lists.set(CORE_LIST_NAME, { name: CORE_LIST_NAME, entries: coreListEntries(), problems: [], version: CORE_LIST_VERSION, origin: 'built-in' });
    for (const name of SHIPPED_LIST_NAMES) {
      const list = loadShippedList(name);
      for (const problem of list.problems) problems.push({ list: name, problem });
      lists.set(name, { ...list, version: SHIPPED_LISTS_VERSION, origin: 'shipped' });
    }
    let version = SHIPPED_LISTS_VERSION;
    const bundle = this.#storedBundle(problems);
    if (bundle !== undefined) {
      version = bundle.version;
      for (const list of bundle.lists) lists.set(list.name, { ...list, version: bundle.version, origin: 'collector' });
    }
    return { version, lists, problems };
  }

  /** The version of the lists in use (the collector bundle's, else the shipped lists'), without parsing the shipped lists. */
  currentVersion(): string {
    return this.installedVersion() ?? SHIPPED_LISTS_VERSION;
  }

  /** The version of the stored collector bundle, if one is installed and valid. */
  installedVersion(): string | undefined {
    return this.#storedBundle([])?.version;
  }

  /**
   * Validate `text` as the bundle `version` and install it. Throws
   * STEPPE_ERR_TEST_LIST (and changes nothing) when it is not valid.
   */
  install(text: string, version: string): TestListBundle {
    const bundle = parseTestListBundle(text, version);
    writeFileAtomic(this.bundlePath, text);
    return bundle;
  }

  #storedBundle(problems: { list: string; problem: TestListProblem }[]): TestListBundle | undefined {
    let text: string;
    try {
      text = readFileSync(this.bundlePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      problems.push({ list: 'collector', problem: { line: 0, message: `cannot read ${this.bundlePath}: ${(err as Error).message}` } });
      return undefined;
    }
    try {
      return parseTestListBundle(text);
    } catch (err) {
      // Stored bundles were validated on install; a failure now means the
      // file was damaged. Fall back to the shipped lists and say so.
      const message = err instanceof SteppeError ? err.message : String(err);
      problems.push({ list: 'collector', problem: { line: 0, message: `stored bundle ignored: ${message}` } });
      return undefined;
    }
  }
}
