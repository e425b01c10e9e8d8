export { type Category, currentCategoryCode, parseCategoryLegend } from './categories.js';
export { CORE_LIST_NAME, CORE_LIST_VERSION, CORE_TARGETS, type CoreTarget, coreListEntries } from './core.js';
export { loadCategoryLegend, loadShippedList, SHIPPED_LIST_NAMES, SHIPPED_LISTS_VERSION, shippedListsDir } from './shipped.js';
export { type AvailableList, COLLECTOR_BUNDLE_FILE, type TestListCatalog, TestListStore } from './store.js';
export { type CategoryFilter, passesFilter, planRun, type RunPlan } from './select.js';
export { testListBundleUrl, type TestListUpdate, updateTestLists } from './update.js';
