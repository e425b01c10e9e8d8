/**
 * Safe readers for untrusted JSON (an OONI record is whatever a probe of any
 * age wrote). Each returns undefined for a missing key or a value of another
 * type, so the converters never throw on shape surprises.
 */

/** A JSON object. */
export type JsonObject = { readonly [key: string]: unknown };

/** `value` as an object, or undefined (arrays and null are not objects here). */
export function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** `value` as an array, or undefined. */
export function asArray(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** `value` as a string, or undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `value` as a finite number, or undefined. */
export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `value` as a boolean, or undefined. */
export function asBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** Objects of an array, skipping anything else. */
export function objectsOf(value: unknown): JsonObject[] {
  const out: JsonObject[] = [];
  for (const item of asArray(value) ?? []) {
    const o = asObject(item);
    if (o !== undefined) out.push(o);
  }
  return out;
}
