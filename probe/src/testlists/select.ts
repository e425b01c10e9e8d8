import type { Target } from '../experiments/engine-options.js';
import type { Category } from './categories.js';
import { currentCategoryCode } from './categories.js';
import { CORE_LIST_NAME } from './core.js';
import type { TestListCatalog } from './store.js';


/** Which categories to measure (a volunteer's safety choice). */
export interface CategoryFilter {
  /** Only these (empty: all). Old codes are mapped to current ones. */
  readonly categories: readonly string[];
  /** Never these, whatever list they are on. */
  readonly excludeCategories: readonly string[];
}

/** What one run measures. */
export interface RunPlan {
  readonly targets: Target[];
  /** Lists measured, in order. */
  readonly lists: string[];
  /** True when a full run was cut down to the core list because the budget is spent. */
  readonly limitedByBudget: boolean;
  /** Targets left out by the category filter. */
  readonly filteredOut: number;
  /** Full lists named in the config that are not available. */
  readonly missingLists: string[];
}

/** True when an entry passes the filter. */
export function passesFilter(categoryCode: string, filter: CategoryFilter, legend: readonly Category[] = []): boolean {
  const code = currentCategoryCode(categoryCode, legend);
  const excluded = filter.excludeCategories.map((c) => currentCategoryCode(c, legend));
  if (excluded.includes(code)) return false;
  if (filter.categories.length === 0) return true;
  return filter.categories.map((c) => currentCategoryCode(c, legend)).includes(code);
}

/**
 * The targets of a run: the core list always first (it is what the 15-minute
 * schedule and a spent budget fall back to), then, for a full run, each list
 * of `fullLists` in order; a URL on several lists is measured once, under the
 * first list it appears on.
 */
export function planRun(options: {
  readonly kind: 'core' | 'full';
  readonly catalog: TestListCatalog;
  readonly fullLists: readonly string[];
  readonly filter: CategoryFilter;
  readonly budgetExhausted: boolean;
  readonly legend?: readonly Category[];
}): RunPlan {
  const { catalog, filter } = options;
  const limitedByBudget = options.kind === 'full' && options.budgetExhausted;
  const names = options.kind === 'full' && !options.budgetExhausted ? [CORE_LIST_NAME, ...options.fullLists.filter((n) => n !== CORE_LIST_NAME)] : [CORE_LIST_NAME];
  const seen = new Set<string>();
  const targets: Target[] = [];
  const lists: string[] = [];
  const missingLists: string[] = [];
  let filteredOut = 0;
  for (const name of names) {
    const list = catalog.lists.get(name);
    if (list === undefined) {
      missingLists.push(name);
      continue;
    }
    lists.push(name);
    for (const entry of list.entries) {
      if (seen.has(entry.url)) continue;
      seen.add(entry.url);
      if (!passesFilter(entry.categoryCode, filter, options.legend)) {
        filteredOut += 1;
        continue;
      }
      targets.push({ url: entry.url, categoryCode: entry.categoryCode, testList: name, testListVersion: list.version });
    }
  }
  return { targets, lists, limitedByBudget, filteredOut, missingLists };
}
