// Dataset exports for researchers: streamed JSON Lines (Steppe's schema, with
// the probes' proofs and the collector's seals), CSV of the queryable columns, OONI data-format JSON Lines, and
// signed snapshots. docs/data-format.md describes every format.
export { COLLECTOR_KEY_FILE, type CollectorKey, collectorKeyDocument, loadOrCreateCollectorKey, parsePublicKeyArgument } from './collector-key.js';
export { CSV_COLUMNS, CSV_COLUMNS_VERSION, type CsvColumn, csvField, csvHeader, csvRow } from './csv.js';
export { type ExportRow, type ExportSource, type ProvenRow, decodeStored, exportRows } from './export-row.js';
export { DigestStream, FileSink } from './file-sink.js';
export {
  EXPORT_CHUNK_BYTES,
  EXPORT_CHUNK_CHARS,
  EXPORT_FORMAT_NAMES,
  EXPORT_FORMATS,
  type ExportCounter,
  type ExportFormat,
  type ExportFormatName,
  type ExportOptions,
  type RecordSource,
  chunked,
  exportChunks,
  exportChunksParallel,
  exportLines,
  newCounter,
} from './formats.js';
export {
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestFile,
  SIGNATURE_FILE,
  type SnapshotManifest,
  isPlainFileName,
  serializeManifest,
  signManifest,
} from './manifest.js';
export { ooniJsonLine } from './ooni-jsonl.js';
export {
  type CanonicalQuery,
  EXPORT_QUERY_PARAMETERS,
  type ExportQuery,
  ExportQueryError,
  type ExportQueryParameter,
  type ParseQueryOptions,
  orderedQuery,
  parseExportQuery,
  queryFromCanonical,
} from './query.js';
export { type ExportRouteDeps, registerExportRoutes } from './routes.js';
export { type SnapshotOptions, type SnapshotResult, describeSnapshot, isSnapshotId, snapshotId, writeSnapshot } from './snapshot.js';
export { PROOF_MODES, type ProofMode, ProofWriter, STEPPE_JSONL_SCHEMA_VERSION, batchIdOf, steppeJson, steppeJsonLine } from './steppe-jsonl.js';
export { openMaybeGzip } from './maybe-gzip.js';
export { ByteWriter } from './byte-writer.js';
export { type MessagePlan, UnsupportedSchemaError, measurementJsonPlan } from './json-plan.js';
export { type TranscodedFacts, type TranscoderOptions, MeasurementTranscoder } from './measurement-transcoder.js';
export { SteppeLineWriter } from './steppe-line-writer.js';
export { JsonlWorkerPool } from './jsonl-pool.js';
export { CARRIER_FIELDS, type JsonlVerifyOptions, PROBE_FIELD_KEYS, type ProofFailure, type ProofVerification, verifyJsonlProofs } from './verify-proofs.js';
export { COLLECTOR_COLUMN_KEYS, type CollectorRecord, columnsOfRecord, encodeCollectorRecord, recordJson } from './collector-record.js';
export { type ExportSeal, ExportSealer, SEAL_CONTEXT, SEAL_PAGE_LINES, type SealOptions, type SealedRow, sealSigningBytes, verifySealSignature } from './export-sealer.js';
export { MerkleAccumulator, auditPaths, leafHash, merkleRoot, nodeHash, rootFromAuditPath } from './merkle-tree.js';
export { type ExpectedSeal, type SealCheckOptions, SealChecker, type SealSummary } from './verify-seals.js';
export { type FileCheck, type SnapshotVerification, type VerifyOptions, verifySnapshot } from './verify-snapshot.js';
