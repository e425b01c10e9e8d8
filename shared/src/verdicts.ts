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
