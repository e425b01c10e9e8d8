import type { Migration } from './migration.js';

/**
 * Daily rollups and a late-activity index (docs/design/dd-004-storage.md,
 * measured in bench/timeline):
 * - a 30-day overview of every domain × ASN read ~700k hourly rows; the
 *   daily table holds 24× fewer. Backfilled from the hourly rollups.
 * - shutdown detection first asks which ASNs had late, failed deliveries;
 *   a partial index answers that without reading the activity of quiet ones.
 */
export const migration002: Migration = {
  version: 2,
  name: 'daily-rollup-late-activity',
  sql: `
CREATE TABLE rollup_1d (
  domain TEXT NOT NULL,
  asn INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  cc TEXT NOT NULL,
  category_code TEXT NOT NULL,
  source TEXT NOT NULL,
  verdict TEXT NOT NULL,
  blocking_type TEXT NOT NULL,
  n INTEGER NOT NULL,
  anomaly_n INTEGER NOT NULL,
  confirmed_n INTEGER NOT NULL,
  PRIMARY KEY (domain, asn, bucket_ms, cc, category_code, source, verdict, blocking_type)
) WITHOUT ROWID;
CREATE INDEX rollup_1d_by_bucket ON rollup_1d(bucket_ms);

INSERT INTO rollup_1d (domain, asn, bucket_ms, cc, category_code, source, verdict, blocking_type, n, anomaly_n, confirmed_n)
  SELECT domain, asn, (bucket_ms / 86400000) * 86400000, cc, category_code, source, verdict, blocking_type, SUM(n), SUM(anomaly_n), SUM(confirmed_n)
  FROM rollup_1h
  GROUP BY domain, asn, (bucket_ms / 86400000) * 86400000, cc, category_code, source, verdict, blocking_type;

CREATE INDEX probe_activity_late ON probe_activity(bucket_ms, asn) WHERE late_failed_n > 0;
`,
};
