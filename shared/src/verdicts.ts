/**
 * The closed list of verdicts (docs/verdicts.md). `accessible` and `down` are
 * not anomalies; every other verdict names the step where the probe's view
 * departed from the control's.
 */
export const VERDICTS = [
  'accessible',
  'down',
  'dns',
  'tcp_ip',
  'tls',
  'interception',
  'http-failure',
  'http-diff',
  'blockpage',
  'throttled',
] as const;

export type Verdict = (typeof VERDICTS)[number];

const VERDICT_SET: ReadonlySet<string> = new Set(VERDICTS);

/** True when `value` is one of the verdicts. */
export function isVerdict(value: string): value is Verdict {
  return VERDICT_SET.has(value);
}

/** Verdicts that mean "blocked or tampered with" (an anomaly). */
export const BLOCKING_VERDICTS: readonly Verdict[] = VERDICTS.filter((v) => v !== 'accessible' && v !== 'down');

/**
 * The `blocking_type` of an `accessible` verdict whose site answered with a
 * CDN or WAF challenge page (a browser check, docs/verdicts.md) instead of
 * the page: not an anomaly, yet not a page that was compared with the
 * control either, so counts of accessible measurements can tell the two
 * apart. The only blocking type a non-anomalous verdict carries.
 */
export const SERVER_CHALLENGE = 'server_challenge';
