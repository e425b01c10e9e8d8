// The measurement engine: experiments and the loop that runs them over targets.
export { type Target, type EngineOptions, type StepTimeouts, ENGINE_DEFAULTS, stepTimeouts } from './engine-options.js';
export { type MeasureHooks, type Traffic, measureTargets, targetProblem } from './measure-targets.js';
export {
  type WebConnectivityContext,
  type WebConnectivityResult,
  WEB_CONNECTIVITY,
  measureWebConnectivity,
} from './web-connectivity/web-connectivity.js';
export { withRetry } from './web-connectivity/retry.js';
