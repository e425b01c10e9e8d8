/**
 * The verdict engine: pure functions over observations, the control's view
 * and reference data (docs/verdicts.md). No network code lives here; the only
 * I/O is the explicit loader of the bundled reference data.
 */
export {
  ENGINE_VERSION,
  verdictFor,
  type AnalysisResult,
  type ControlSummaryResult,
  type VerdictInput,
  type VerdictMeasurement,
  type VerdictOptions,
} from './verdict.js';
export {
  EMPTY_VERDICT_REFERENCE,
  defaultVerdictReference,
  readBundledInterceptionRootPems,
  referenceDataUrl,
  withFingerprints,
  withInterceptionRoots,
  type VerdictReference,
} from './reference.js';
export {
  decodeBody,
  loadFingerprints,
  matchDnsFingerprints,
  matchHttpFingerprints,
  matchesPattern,
  type Fingerprint,
  type FingerprintSet,
  type FingerprintStrength,
  type FingerprintableResponse,
  type PatternType,
  type SkippedFingerprint,
} from './fingerprints.js';
export {
  certificateSha256,
  commonNameOf,
  findInterceptionRoot,
  loadInterceptionRoots,
  type InterceptionMatch,
  type InterceptionMatchKind,
  type InterceptionRoot,
} from './interception-roots.js';
export {
  BODY_PROPORTION_THRESHOLD,
  THROTTLING_MIN_BYTES,
  THROTTLING_MIN_DURATION_MS,
  THROTTLING_RATIO,
  TITLE_WORD_MIN_LENGTH,
  bodyProportion,
  probeThroughputBps,
  titleWords,
  titlesShareWord,
} from './http-compare.js';
export { parseCsvObjects } from './csv.js';
