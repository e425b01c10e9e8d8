import { join } from 'node:path';
import { type Clock, ConfigError, check, type Language, LANGUAGES, SteppeError, systemClock } from '@steppe/shared';
import { readJsonIfExists, writeJsonAtomic } from '../config/json-file.js';
import { versioned } from '../config/versioned-document.js';
import { CONSENT_VERSION, consentNotice } from './notice.js';

/** File name of the consent record inside the data directory. */
export const CONSENT_FILE_NAME = 'consent.json';

/**
 * Layout version of the record file (`formatVersion`). v0.1 wrote records
 * without it (layout 1); they are read as they are.
 */
export const CONSENT_RECORD_VERSION = 2;

/** How the operator accepted. */
export type ConsentMethod = 'interactive' | 'accept-risks-flag';

/** What is recorded when the operator accepts the notice. */
export interface ConsentRecord {
  /** Layout of the record (CONSENT_RECORD_VERSION), not of the notice. */
  readonly formatVersion: number;
  /** The CONSENT_VERSION of the text accepted. */
  readonly version: number;
  readonly acceptedAtMs: number;
  /** The same instant, ISO 8601 UTC, for people reading the file. */
  readonly acceptedAt: string;
  readonly method: ConsentMethod;
  /** The language the notice was read and accepted in (absent in records written before translations: English). */
  readonly language?: Language;
  /** The version of that language's text accepted (ConsentNotice.version, a digest); absent in older records. */
  readonly noticeVersion?: string;
}

const recordSchema = versioned(
  {
    field: 'formatVersion',
    current: CONSENT_RECORD_VERSION,
    implicit: 1,
    // Layout 2 is layout 1 with its own version field; no other field changed.
    steps: [{ from: 1, name: 'format version field', up: (record) => ({ ...record }) }],
  },
  check.object({
    formatVersion: check.integer({ min: CONSENT_RECORD_VERSION, max: CONSENT_RECORD_VERSION }),
    version: check.integer({ min: 1, max: 1_000_000 }),
    acceptedAtMs: check.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    acceptedAt: check.string({ min: 1, max: 64 }),
    method: check.oneOf(['interactive', 'accept-risks-flag'] as const),
    language: check.optional(check.oneOf(LANGUAGES), undefined),
    noticeVersion: check.optional(check.string({ min: 1, max: 100 }), undefined),
  }),
);

/** Record that the operator accepted the current notice, read in `language`. */
export function recordConsent(dataDir: string, method: ConsentMethod, clock: Clock = systemClock, language: Language = 'en'): ConsentRecord {
  const now = clock.now();
  const record: ConsentRecord = {
    formatVersion: CONSENT_RECORD_VERSION, version: CONSENT_VERSION, acceptedAtMs: now, acceptedAt: new Date(now).toISOString(), method,
    language, noticeVersion: consentNotice(language).version,
  };
  writeJsonAtomic(join(dataDir, CONSENT_FILE_NAME), record);
  return record;
}

/**
 * The consent on record (in the current layout, whatever layout the file
 * has), or undefined when there is none. A record that is not valid JSON or
 * has the wrong shape is a ConfigError naming the file.
 */
export function readConsent(dataDir: string): ConsentRecord | undefined {
  const path = join(dataDir, CONSENT_FILE_NAME);
  let value: unknown;
  try {
    value = readJsonIfExists(path);
  } catch (cause) {
    throw new ConfigError('', `${path}: unreadable consent record (${cause instanceof Error ? cause.message : String(cause)}); run \`steppe-probe init\` again`, { cause });
  }
  if (value === undefined) return undefined;
  try {
    const { language, noticeVersion, ...rest } = recordSchema(value, '');
    return { ...rest, ...(language !== undefined ? { language } : {}), ...(noticeVersion !== undefined ? { noticeVersion } : {}) };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.field, `${path}: ${err.message}`, { cause: err });
    throw err;
  }
}

/**
 * True when the notice `current` (default: this software's) has been
 * accepted, and the text accepted, in its language, has not changed since
 * (a record older than translations has no text version: its CONSENT_VERSION
 * alone decides).
 */
export function hasCurrentConsent(record: ConsentRecord | undefined, current: number = CONSENT_VERSION): boolean {
  return record !== undefined && record.version >= current && !textChanged(record);
}

function textChanged(record: ConsentRecord): boolean {
  return record.noticeVersion !== undefined && record.noticeVersion !== consentNotice(record.language ?? 'en').version;
}

/**
 * Refuse to go on without the operator's informed consent to the current
 * notice (STEPPE_ERR_CONSENT_REQUIRED: the CLIs exit 3 on it). A record of
 * an older notice version does not count: the text changed since.
 */
export function requireConsent(dataDir: string, current: number = CONSENT_VERSION): ConsentRecord {
  const record = readConsent(dataDir);
  if (record !== undefined && hasCurrentConsent(record, current)) return record;
  const why =
    record === undefined
      ? 'the informed-consent notice has not been accepted'
      : record.version < current
        ? `the informed-consent notice changed (accepted version ${record.version}, current ${current})`
        : `the informed-consent notice in "${record.language ?? 'en'}" changed since it was accepted (accepted ${record.noticeVersion ?? '?'}, now ${consentNotice(record.language ?? 'en').version})`;
  throw new SteppeError(
    'STEPPE_ERR_CONSENT_REQUIRED',
    `${why}: run \`steppe-probe init --data-dir ${dataDir}\` and read it first (or pass --accept-risks)`,
  );
}
