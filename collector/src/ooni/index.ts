// OONI compatibility: converters between OONI's data format
// (ooni/spec data-formats, nettests/ts-017-web-connectivity.md) and Steppe's
// measurements. Pure functions; docs/design/dd-003-ooni-compat.md.
export { type MaybeBinaryData, fromMaybeBinaryData, toBinaryData, toMaybeBinaryData } from './binary-data.js';
export { type OoniComparison, compareWithControl, finalRequest } from './comparison.js';
export {
  type KnownDifference,
  type OoniDisagreement,
  KNOWN_DIFFERENCES,
  agreesWithOoni,
  disagreementJson,
  disagreementOf,
} from './disagreements.js';
export { endpointKey, parseEndpoint } from './endpoint.js';
export { failureFromOoni, failureToOoni, unknownFailure } from './failures.js';
export {
  type ConvertedOoniMeasurement,
  type OoniConversion,
  type OoniVerdict,
  SUPPORTED_TEST_VERSIONS,
  convertOoniWebConnectivity,
  parseAsn,
} from './from-ooni.js';
export { ooniMeasurementId } from './measurement-id.js';
export { compactOoniTime, formatOoniTime, msToSeconds, parseOoniTime, secondsToMs } from './time.js';
export {
  type OoniExportContext,
  OONI_DATA_FORMAT_VERSION,
  OONI_PROBE_IP_PLACEHOLDER,
  blockingFromVerdict,
  toOoniMeasurement,
} from './to-ooni.js';
export {
  type ImportProblem,
  type OoniImportOptions,
  type OoniImportSummary,
  emptySummary,
  importOoniFile,
  importOoniLines,
  ooniBlockingLabel,
  steppeVerdictLabel,
} from './importer.js';
