// Dataset exports for researchers: streamed JSON Lines (Steppe's schema, with
// proofs), CSV of the queryable columns, OONI data-format JSON Lines, and
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
export { type ProofFailure, type ProofVerification, verifyJsonlProofs } from './verify-proofs.js';
export { type FileCheck, type SnapshotVerification, type VerifyOptions, verifySnapshot } from './verify-snapshot.js';
