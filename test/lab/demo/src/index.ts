/**
 * The offline demo of 6 December 2020 (docs/demo.md): `runDemo` replays the
 * scripted day of scenario.json in the censorship lab into a real collector;
 * `truth` derives what the collector must find; `report` formats it.
 */
export {
  runDemo, dashboardPermalink, isoMinute, DEMO_ALLOW_NET, DEMO_GRAIN,
  type DemoOptions, type DemoEvent, type DemoResult, type DemoRun, type NetworkTally,
} from './demo.js';
export {
  SCENARIO_FILE, BLOCKING_BEHAVIOURS, loadScenario, resolveScenario, shortenScenario, roundTimes, within, targetDomain,
  localToMs, localClock, utcClock, offsetMs,
  type Scenario, type ScenarioFile, type ScenarioProbe, type ScenarioBlocking, type ScenarioShutdown, type ScenarioOffline,
  type ShortenOptions, type Span, type BlockingBehaviour,
} from './scenario.js';
export {
  expectedEpisodes, expectedMeasurements, lateRounds, compareEpisodes,
  type ExpectedEpisode, type ApiEpisode, type EpisodeCheck, type TruthNetwork,
} from './truth.js';
export { formatEvent, formatResult, textTable, when } from './report.js';
export { SimClock } from './sim-clock.js';
export { NetworkGateway, type CutTarget, type GatewayNetwork, type GatewayOptions } from './gateway.js';
export { DemoProbe, type DemoProbeOptions, type RoundResult } from './demo-probe.js';
