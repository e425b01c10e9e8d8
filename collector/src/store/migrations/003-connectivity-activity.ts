import type { Migration } from './migration.js';

/**
 * What shutdown detection keeps per (ASN, 5-minute bucket, probe)
 * (docs/design/dd-007-episodes.md):
 * - imports are never late: an OONI measurement imported today was received
 *   years after it started, and earlier versions counted it as "delivered
 *   late from an outbox". Their late counters are set to zero.
 * - `reached_n`: measurements showing the probe was online (no step failed,
 *   or a verdict, which needs the control's answer: rollup-deltas.ts,
 *   showsConnectivity); a reachable site in a bucket rules a shutdown out.
 * - `check_n`, `check_failed_n`: the probe's own connectivity checks
 *   (test_name 'connectivity', Steppe uploads only) and those that did not
 *   reach their host.
 * The new counters are backfilled from the measurements (one scan), and the
 * partial index that finds where to look covers failed checks as well.
 */
export const migration003: Migration = {
  version: 3,
  name: 'connectivity-activity',
  sql: `
UPDATE probe_activity SET late_n = 0, late_failed_n = 0 WHERE source <> 'steppe' AND (late_n <> 0 OR late_failed_n <> 0);

ALTER TABLE probe_activity ADD COLUMN reached_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probe_activity ADD COLUMN check_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probe_activity ADD COLUMN check_failed_n INTEGER NOT NULL DEFAULT 0;

UPDATE probe_activity SET reached_n = m.reached, check_n = m.checks, check_failed_n = m.checks_failed
FROM (
  SELECT asn, b, probe_ref, SUM(reached) AS reached, SUM(is_check) AS checks, SUM(is_check AND NOT reached) AS checks_failed
  FROM (
    SELECT asn, probe_ref,
      -- The 5-minute bucket, rounded down also before 1970 (as bucketStart).
      start_ms - (((start_ms % 300000) + 300000) % 300000) AS b,
      (failure IS NULL OR failure = '' OR verdict <> '') AS reached,
      (source = 'steppe' AND test_name = 'connectivity') AS is_check
    FROM measurements
  )
  GROUP BY asn, b, probe_ref
) AS m
WHERE probe_activity.asn = m.asn AND probe_activity.bucket_ms = m.b AND probe_activity.probe_ref = m.probe_ref;

DROP INDEX probe_activity_late;
CREATE INDEX probe_activity_outage ON probe_activity(bucket_ms, asn) WHERE late_failed_n > 0 OR check_failed_n > 0;
`,
};
