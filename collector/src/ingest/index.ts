export { attachIngest, type IngestOptions, type IngestHandle, type IngestStats, type NetworkResolver } from './attach-ingest.js';
export { type IngestLimits, DEFAULT_INGEST_LIMITS, resolveIngestLimits } from './limits.js';
export { type Enrollment, loadEnrollmentTokens, checkEnrollment, TokenSet } from './enrollment.js';
export { type IngestEvent, ProbeSession, type SessionContext, type SessionTransport } from './probe-session.js';
export { GroupCommitter, type GroupCommitOptions } from './group-committer.js';
export { IngestMetrics } from './metrics.js';
export { CLOSE, closeCodeFor } from './close-codes.js';
export { verifyBatch, type BatchSender, type VerifyResult } from './batch-verifier.js';
