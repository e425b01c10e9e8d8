import { type Check, ConfigError, SteppeError } from '@steppe/shared';

/** One forward step of a JSON file's layout: a document of version `from` becomes version `from + 1`. */
export interface DocumentStep {
  readonly from: number;
  /** What changed, for people reading the code. */
  readonly name: string;
  /** The new layout's fields from the old one's (the version field is set by the caller). */
  readonly up: (document: Readonly<Record<string, unknown>>) => Record<string, unknown>;
}

/** How a JSON file of the data directory records its layout version. */
export interface DocumentVersioning {
  /** Name of the version field, e.g. "configVersion". */
  readonly field: string;
  /** The layout this software writes. */
  readonly current: number;
  /** The version of a document without the field (files older than the field itself), if any. */
  readonly implicit?: number;
  /** Steps from each older version, consecutive, ending at `current`. */
  readonly steps: readonly DocumentStep[];
}

/**
 * A check that brings a document of an older layout forward, step by step,
 * then validates it with `schema`. The file itself is not rewritten: it is
 * read in its old layout and written in the current one the next time it is
 * written. A document of a newer layout than this software knows is refused,
 * naming the version field and saying to upgrade.
 */
export function versioned<T>(versioning: DocumentVersioning, schema: Check<T>): Check<T> {
  const first = versioning.current - versioning.steps.length;
  versioning.steps.forEach((step, i) => {
    if (step.from !== first + i) throw new SteppeError('STEPPE_ERR_INTERNAL', `document steps of "${versioning.field}" are broken: position ${i} goes from ${step.from}`);
  });
  return (value, field) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return schema(value, field);
    let document = value as Readonly<Record<string, unknown>>;
    const name = field === '' ? versioning.field : `${field}.${versioning.field}`;
    const stated = document[versioning.field] ?? versioning.implicit;
    // Anything but a whole number is left to the schema, whose message names the field.
    if (typeof stated !== 'number' || !Number.isSafeInteger(stated) || stated < first) return schema(value, field);
    if (stated > versioning.current) {
      throw new ConfigError(name, `field "${name}": ${stated} is a newer layout than this probe knows (${versioning.current}); upgrade the probe`);
    }
    for (const step of versioning.steps.slice(stated - first)) document = { ...step.up(document), [versioning.field]: step.from + 1 };
    return schema(document, field);
  };
}
