import { type AnalysisResult, type Json, SERVER_CHALLENGE, idToString } from '@steppe/shared';
import type { ConvertedOoniMeasurement, OoniVerdict } from './from-ooni.js';
import { blockingFromVerdict } from './to-ooni.js';

/**
 * Where OONI's verdict on a measurement and Steppe's differ, for a
 * researcher to review (`import-ooni --disagreements FILE`). Steppe's
 * verdict is compared in OONI's terms: its `blocking`/`accessible` pair by
 * the export's fixed table (dd-003; `blockpage` is OONI's `http-diff`,
 * `tls` its `http-failure`), so only differences of substance are listed.
 */

/**
 * Differences Steppe makes on purpose (docs/verdicts.md, "OONI and
 * Steppe"): where its rules are deliberately not OONI's.
 */
export const KNOWN_DIFFERENCES = {
  /** The control failed too: the site is down for everyone, not blocked. */
  control_failed_too: 'the control failed too: Steppe says the site is down',
  /** The name does not exist; the ISP's resolver answered its own page anyway. */
  isp_nxdomain_hijacking: 'the name does not exist for the control; the ISP\'s resolver answers such names with its own page',
  /** A CDN answered with a challenge page (a browser check). */
  server_challenge: 'the site\'s CDN answered with a challenge page, which a browser passes',
  /** A redirect's next hop could not be connected to: Steppe names the step, OONI the failed request. */
  failed_step_named: 'Steppe names the step that failed (tcp_ip) where OONI reports the failed request (http-failure)',
} as const;

/** The name of a known, deliberate difference. */
export type KnownDifference = keyof typeof KNOWN_DIFFERENCES;

/** One measurement where OONI and Steppe disagree, as written to the disagreements file. */
export interface OoniDisagreement {
  /** Line of the input file. */
  readonly line: number;
  readonly measurementId: string;
  readonly reportId: string;
  readonly input: string;
  readonly testVersion: string;
  readonly startTimeMs: number;
  readonly ooni: OoniVerdict;
  readonly steppe: Pick<AnalysisResult, 'verdict' | 'blockingType' | 'anomaly' | 'confirmed' | 'failure' | 'failedStep' | 'fingerprintId' | 'evidence'>;
  readonly knownDifference: KnownDifference | null;
}

/** OONI's `blocking` as it wrote it ("false" is the JSON false). */
function ooniBlocking(ooni: OoniVerdict): Json {
  return ooni.blocking === 'false' ? false : ooni.blocking;
}

/** Whether Steppe's verdict, in OONI's terms, is the one OONI gave. */
export function agreesWithOoni(converted: ConvertedOoniMeasurement, analysis: AnalysisResult): boolean {
  const requests = converted.measurement.observations?.httpRequests ?? [];
  const mapped = blockingFromVerdict(analysis.verdict, requests[requests.length - 1]);
  return mapped.blocking === ooniBlocking(converted.ooni) && mapped.accessible === converted.ooni.accessible;
}

function knownDifference(converted: ConvertedOoniMeasurement, analysis: AnalysisResult): KnownDifference | null {
  if (analysis.verdict === 'accessible' && analysis.blockingType === SERVER_CHALLENGE) return 'server_challenge';
  if (analysis.verdict === 'down') {
    const controlNxdomain = converted.measurement.control?.dns?.failure === 'dns_nxdomain_error';
    return controlNxdomain && analysis.failure === '' ? 'isp_nxdomain_hijacking' : 'control_failed_too';
  }
  if (analysis.verdict === 'tcp_ip' && converted.ooni.blocking === 'http-failure') return 'failed_step_named';
  return null;
}

/** The disagreement of one imported measurement, or undefined when OONI and Steppe agree. */
export function disagreementOf(converted: ConvertedOoniMeasurement, analysis: AnalysisResult, line: number): OoniDisagreement | undefined {
  if (agreesWithOoni(converted, analysis)) return undefined;
  return {
    line,
    measurementId: idToString(converted.id),
    reportId: converted.reportId,
    input: converted.measurement.input,
    testVersion: converted.testVersion,
    startTimeMs: converted.measurement.startTimeMs,
    ooni: converted.ooni,
    steppe: {
      verdict: analysis.verdict,
      blockingType: analysis.blockingType,
      anomaly: analysis.anomaly,
      confirmed: analysis.confirmed,
      failure: analysis.failure,
      failedStep: analysis.failedStep,
      fingerprintId: analysis.fingerprintId,
      evidence: analysis.evidence,
    },
    knownDifference: knownDifference(converted, analysis),
  };
}

/** One JSON line of the disagreements file (snake_case, OONI's values as OONI wrote them). */
export function disagreementJson(d: OoniDisagreement, file: string): { [key: string]: Json } {
  return {
    file,
    line: d.line,
    measurement_id: d.measurementId,
    report_id: d.reportId,
    input: d.input,
    test_version: d.testVersion,
    measurement_start_time: new Date(d.startTimeMs).toISOString(),
    ooni: { blocking: ooniBlocking(d.ooni), accessible: d.ooni.accessible },
    steppe: {
      verdict: d.steppe.verdict === '' ? null : d.steppe.verdict,
      blocking_type: d.steppe.blockingType,
      anomaly: d.steppe.anomaly,
      confirmed: d.steppe.confirmed,
      failure: d.steppe.failure === '' ? null : d.steppe.failure,
      failed_step: d.steppe.failedStep,
      fingerprint_id: d.steppe.fingerprintId,
      evidence: [...d.steppe.evidence],
    },
    known_difference: d.knownDifference,
  };
}
