import type { Migration } from './migration.js';

/**
 * The initial schema (docs/design/dd-004-storage.md).
 *
 * - `measurements` holds the queryable columns only, so filtered listings
 *   read dense pages; the stored bytes live in `measurement_raw` under the
 *   same rowid, cut of repeated certificates and body prefixes, which live
 *   once each in `blobs` (see raw-codec.ts).
 * - Network columns come from the collector's view of the connection (ASN,
 *   country, network name); no table has a column for an IP address.
 * - Rollups are keyed by every dimension a timeline filters on and kept in
 *   the same transaction as the rows they count.
 */
export const migration001: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE probes (
  probe_ref INTEGER PRIMARY KEY,
  probe_id TEXT NOT NULL UNIQUE,
  -- 'steppe' probes have a key; imported origins ('ooni') have none.
  kind TEXT NOT NULL DEFAULT 'steppe',
  public_key BLOB,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  -- Network of the last connection, ASN-level only.
  last_asn INTEGER NOT NULL,
  last_cc TEXT NOT NULL,
  last_network_name TEXT NOT NULL
);

CREATE TABLE batches (
  batch_ref INTEGER PRIMARY KEY,
  probe_ref INTEGER NOT NULL REFERENCES probes(probe_ref),
  sequence INTEGER NOT NULL,
  header BLOB NOT NULL,
  signature BLOB NOT NULL,
  received_ms INTEGER NOT NULL
);
CREATE INDEX batches_by_probe ON batches(probe_ref, sequence);

CREATE TABLE blobs (
  sha256 BLOB PRIMARY KEY,
  data BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE measurements (
  seq INTEGER PRIMARY KEY,
  id BLOB NOT NULL UNIQUE,
  start_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  probe_ref INTEGER NOT NULL REFERENCES probes(probe_ref),
  asn INTEGER NOT NULL,
  cc TEXT NOT NULL,
  network_name TEXT NOT NULL,
  domain TEXT NOT NULL,
  input TEXT NOT NULL,
  category_code TEXT NOT NULL,
  test_name TEXT NOT NULL,
  test_version TEXT NOT NULL,
  verdict TEXT NOT NULL,
  blocking_type TEXT NOT NULL,
  anomaly INTEGER NOT NULL,
  confirmed INTEGER NOT NULL,
  failure TEXT,
  fingerprint_id TEXT,
  -- NULL for imports, which carry no probe signature.
  batch_ref INTEGER REFERENCES batches(batch_ref),
  source TEXT NOT NULL DEFAULT 'steppe',
  report_id TEXT,
  ooni_blocking TEXT,
  ooni_accessible INTEGER
);
CREATE INDEX measurements_by_start ON measurements(start_ms);
CREATE INDEX measurements_by_domain ON measurements(domain, start_ms);
CREATE INDEX measurements_by_input ON measurements(input, start_ms);
-- No index on asn alone: every index costs each insert, and an ASN holds a
-- large share of all rows, so walking measurements_by_start finds a page of
-- them quickly; (domain, asn) questions go through measurements_by_domain.

CREATE TABLE measurement_raw (
  seq INTEGER PRIMARY KEY,
  raw BLOB NOT NULL,
  -- The source's original record (imports), deflate-compressed.
  original BLOB
);

-- Re-analyses: each adds a row; observations are never edited.
CREATE TABLE reanalyses (
  seq INTEGER NOT NULL,
  analysed_ms INTEGER NOT NULL,
  engine_version TEXT NOT NULL,
  verdict TEXT NOT NULL,
  blocking_type TEXT NOT NULL,
  anomaly INTEGER NOT NULL,
  confirmed INTEGER NOT NULL,
  failure TEXT,
  fingerprint_id TEXT,
  analysis BLOB
);
CREATE INDEX reanalyses_by_measurement ON reanalyses(seq, analysed_ms);

CREATE TABLE rollup_5m (
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
CREATE INDEX rollup_5m_by_bucket ON rollup_5m(bucket_ms);

CREATE TABLE rollup_1h (
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
CREATE INDEX rollup_1h_by_bucket ON rollup_1h(bucket_ms);

-- Distinct probes reporting an anomaly, per (domain, ASN, 5-minute bucket).
CREATE TABLE anomaly_probes (
  domain TEXT NOT NULL,
  asn INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  probe_ref INTEGER NOT NULL,
  source TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (domain, asn, bucket_ms, probe_ref)
) WITHOUT ROWID;
CREATE INDEX anomaly_probes_by_bucket ON anomaly_probes(bucket_ms);

-- Per (ASN, 5-minute bucket of start time, probe): activity and late delivery.
CREATE TABLE probe_activity (
  asn INTEGER NOT NULL,
  bucket_ms INTEGER NOT NULL,
  probe_ref INTEGER NOT NULL,
  source TEXT NOT NULL,
  n INTEGER NOT NULL,
  late_n INTEGER NOT NULL,
  late_failed_n INTEGER NOT NULL,
  PRIMARY KEY (asn, bucket_ms, probe_ref)
) WITHOUT ROWID;
CREATE INDEX probe_activity_by_bucket ON probe_activity(bucket_ms);

CREATE TABLE events (
  event_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  start_ms INTEGER NOT NULL,
  end_ms INTEGER,
  time_zone TEXT NOT NULL,
  description TEXT NOT NULL,
  source_url TEXT,
  created_ms INTEGER NOT NULL,
  origin TEXT NOT NULL
);
CREATE UNIQUE INDEX events_by_name_start ON events(name, start_ms);
`,
};
