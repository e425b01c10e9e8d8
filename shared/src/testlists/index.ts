// Citizen Lab test lists and the test-list bundles a collector offers its
// probes: parsed on both sides (the probe before using a list, the collector
// before offering one), so the parsers live here.
export { csvField, type CsvParseResult, type CsvProblem, type CsvRecord, parseCsv } from './csv.js';
export { CITIZEN_LAB_HEADER, type ParsedTestList, parseTestList, type TestListEntry, type TestListProblem, urlProblem } from './citizenlab.js';
export { MAX_BUNDLE_BYTES, parseTestListBundle, TEST_LIST_BUNDLE_FORMAT, TEST_LIST_VERSION_PATTERN, type TestListBundle } from './bundle.js';
