/**
 * Software errors: one class hierarchy with stable codes (as undici does).
 * A code, once published, is never reused for another meaning; retired codes
 * stay in the table marked as such. docs/errors.md documents every code and a
 * test fails when the two disagree.
 *
 * Network failures met while measuring are *not* errors: they are data (see
 * failures.ts). These classes are for when the software itself cannot go on:
 * bad configuration, a malformed frame, a refused signature.
 */
export const ERROR_CODES = {
  STEPPE_ERR_INVALID_ARGUMENT: 'A function or command was given an argument outside its documented form.',
  STEPPE_ERR_USAGE: 'A command line could not be parsed: unknown option, missing value, bad value.',
  STEPPE_ERR_CONFIG: 'A configuration file or value failed validation; the message names the field and the expected form.',
  STEPPE_ERR_FRAME_DECODE: 'Bytes received are not a valid protobuf Frame (truncated, garbage, wrong wire type).',
  STEPPE_ERR_FRAME_INVALID: 'A Frame decoded but breaks the protocol: no body, a required field missing or out of range.',
  STEPPE_ERR_MEASUREMENT_INVALID: 'A Measurement decoded but is not acceptable: bad id, missing input, bad verdict or failure string.',
  STEPPE_ERR_PROTOCOL: 'A frame arrived out of order (e.g. a batch before the hello).',
  STEPPE_ERR_BAD_SIGNATURE: "A batch's signature does not verify against the probe's registered key.",
  STEPPE_ERR_BATCH_MISMATCH: "A batch's measurements do not match the digests in its signed header.",
  STEPPE_ERR_PROBE_MISMATCH: 'The probe id does not derive from the public key presented, or differs from the session.',
  STEPPE_ERR_ENROLLMENT_REQUIRED: 'The collector enrolls probes by token and the hello carried none, or an invalid one.',
  STEPPE_ERR_KEY_CONFLICT: 'A probe id is already registered with a different public key.',
  STEPPE_ERR_RATE_LIMITED: 'A per-probe limit (batches/s, bytes/s, in-flight batches) was exceeded.',
  STEPPE_ERR_TOO_LARGE: 'A frame or batch exceeds the size the collector accepts.',
  STEPPE_ERR_STORAGE: 'The collector could not commit a batch; nothing was acknowledged.',
  STEPPE_ERR_SHUTTING_DOWN: 'The collector is shutting down; reconnect later.',
  STEPPE_ERR_TIMEOUT: 'A session step did not complete in time (e.g. no hello after connecting).',
  STEPPE_ERR_EGRESS_DENIED: "An address is outside the egress allow-list (--allow-net); no socket was opened.",
  STEPPE_ERR_OUTBOX: 'The probe outbox could not be opened or written.',
  STEPPE_ERR_UPLINK: 'No collector could be reached or the session failed.',
  STEPPE_ERR_NOT_FOUND: 'The requested resource does not exist.',
  STEPPE_ERR_UNAUTHORIZED: 'The request needs an admin token, or the token is wrong.',
  STEPPE_ERR_IMPORT: 'A record being imported could not be read (reported with its line number).',
  STEPPE_ERR_SNAPSHOT_INVALID: 'A dataset snapshot failed verification: manifest signature or a file digest.',
  STEPPE_ERR_TEST_LIST: 'A test list (shipped, local or pushed by the collector) could not be read or failed validation; the list in use is kept.',
  STEPPE_ERR_CONSENT_REQUIRED: 'The probe will not run until its operator has accepted the informed-consent notice.',
  STEPPE_ERR_INTERNAL: 'A bug: an invariant did not hold. Please report it.',
  STEPPE_ERR_LAB: 'The censorship lab (test tooling) could not start or act: a tool it needs (openssl, ip, iptables) is missing or failed.',
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Base class of every Steppe software error. `code` is stable across releases. */
export class SteppeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A function or command got an argument outside its documented form. */
export class InvalidArgumentError extends SteppeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STEPPE_ERR_INVALID_ARGUMENT', message, options);
  }
}

/** A command line could not be parsed. CLIs exit with status 2 on this. */
export class UsageError extends SteppeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STEPPE_ERR_USAGE', message, options);
  }
}

/** Configuration failed validation. `field` is the dotted path of the bad field. */
export class ConfigError extends SteppeError {
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('STEPPE_ERR_CONFIG', message, options);
    this.field = field;
  }
}

/** Bytes that are not a valid Frame or Measurement, or one that breaks the protocol. */
export class DecodeError extends SteppeError {}

/** A signature or signed digest did not verify. */
export class SignatureError extends SteppeError {}

/** A protocol-level refusal sent to a peer as an Error frame. */
export class ProtocolError extends SteppeError {
  /** WebSocket close code that accompanies the error (0: connection stays open). */
  readonly closeCode: number;

  constructor(code: ErrorCode, message: string, closeCode: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.closeCode = closeCode;
  }
}

/** The egress guard refused an address before any socket opened. */
export class EgressDeniedError extends SteppeError {
  readonly address: string;

  constructor(address: string) {
    super('STEPPE_ERR_EGRESS_DENIED', `egress to ${address} refused: outside the --allow-net list`);
    this.address = address;
  }
}

/** True when `value` is a SteppeError carrying `code`. */
export function hasErrorCode(value: unknown, code: ErrorCode): value is SteppeError {
  return value instanceof SteppeError && value.code === code;
}
