import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, UsageError, SteppeError } from './errors.js';
import { type Cidr, parseCidrList } from './net/cidr.js';

/**
 * A validator: returns the value in its typed form or throws a ConfigError
 * naming the field (dotted path) and the expected form. Validators compose,
 * so a whole config file is described by one `object({...})`.
 */
export type Check<T> = (value: unknown, field: string) => T;

/** The typed result of a check. */
export type Checked<C> = C extends Check<infer T> ? T : never;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function reject(field: string, expected: string, value: unknown): never {
  throw new ConfigError(field, `field "${field}": expected ${expected}, got ${show(value)}`);
}

/** Options of `check.string`. */
export interface StringOptions {
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  /** How to describe the expected form in messages, e.g. "a probe id". */
  readonly describe?: string;
}

/** Building blocks for config and option validation. */
export const check = {
  string(options: StringOptions = {}): Check<string> {
    const min = options.min ?? 0;
    const max = options.max ?? 4096;
    const describe = options.describe ?? (min > 0 ? `a non-empty string of at most ${max} characters` : `a string of at most ${max} characters`);
    return (value, field) => {
      if (typeof value !== 'string' || value.length < min || value.length > max) reject(field, describe, value);
      if (options.pattern !== undefined && !options.pattern.test(value)) reject(field, describe, value);
      return value;
    };
  },

  integer(options: { readonly min: number; readonly max: number }): Check<number> {
    return (value, field) => {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < options.min || n > options.max) {
        reject(field, `an integer from ${options.min} to ${options.max}`, value);
      }
      return n;
    };
  },

  number(options: { readonly min: number; readonly max: number }): Check<number> {
    return (value, field) => {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < options.min || n > options.max) {
        reject(field, `a number from ${options.min} to ${options.max}`, value);
      }
      return n;
    };
  },

  boolean(): Check<boolean> {
    return (value, field) => {
      if (value === true || value === 'true') return true;
      if (value === false || value === 'false') return false;
      return reject(field, 'true or false', value);
    };
  },

  oneOf<const T extends string>(values: readonly T[]): Check<T> {
    return (value, field) => {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
        reject(field, `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`, value);
      }
      return value as T;
    };
  },

  url(options: { readonly protocols: readonly string[] }): Check<string> {
    const describe = `a URL starting with ${options.protocols.map((p) => `${p}//`).join(' or ')}`;
    return (value, field) => {
      if (typeof value !== 'string') return reject(field, describe, value);
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return reject(field, describe, value);
      }
      if (!options.protocols.includes(url.protocol)) reject(field, describe, value);
      return value;
    };
  },

  /** "127.0.0.0/8,::1/128" or ["127.0.0.0/8", "::1/128"]. */
  cidrList(): Check<Cidr[]> {
    const describe = 'a comma-separated list of CIDRs such as 127.0.0.0/8,::1/128';
    return (value, field) => {
      const text = Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(',') : value;
      if (typeof text !== 'string') return reject(field, describe, value);
      try {
        return parseCidrList(text);
      } catch {
        return reject(field, describe, value);
      }
    };
  },

  /** "IP:PORT" or "[IPv6]:PORT": a resolver or bind address. */
  ipPort(): Check<{ host: string; port: number }> {
    const describe = 'IP:PORT, e.g. 127.0.0.53:53 or [::1]:53';
    return (value, field) => {
      if (typeof value !== 'string') return reject(field, describe, value);
      const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:]+):(\d{1,5})$/.exec(value);
      const host = m?.[1];
      const port = Number(m?.[2]);
      if (host === undefined || isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        return reject(field, describe, value);
      }
      return { host, port };
    };
  },

  /** A literal IP address. */
  ip(): Check<string> {
    return (value, field) => {
      if (typeof value !== 'string' || isIP(value) === 0) reject(field, 'an IP address such as 127.0.2.1', value);
      return value;
    };
  },

  list<T>(item: Check<T>, options: { readonly min?: number; readonly max?: number } = {}): Check<T[]> {
    const min = options.min ?? 0;
    const max = options.max ?? 10_000;
    return (value, field) => {
      if (!Array.isArray(value) || value.length < min || value.length > max) {
        reject(field, `a list of ${min} to ${max} items`, value);
      }
      return value.map((v, i) => item(v, `${field}[${i}]`));
    };
  },

  /** Undefined (or absent) becomes `fallback`. */
  optional<T>(inner: Check<T>, fallback: T): Check<T> {
    return (value, field) => (value === undefined ? fallback : inner(value, field));
  },

  /** A JSON object with exactly these keys (unknown keys are rejected: typos must not pass silently). */
  object<S extends Record<string, Check<unknown>>>(shape: S): Check<{ [K in keyof S]: Checked<S[K]> }> {
    return (value, field) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return reject(field, 'an object', value);
      const input = value as Record<string, unknown>;
      for (const key of Object.keys(input)) {
        if (!Object.hasOwn(shape, key)) {
          const path = field === '' ? key : `${field}.${key}`;
          throw new ConfigError(path, `field "${path}" is not a known setting (known: ${Object.keys(shape).join(', ')})`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(shape)) {
        out[key] = inner(input[key], field === '' ? key : `${field}.${key}`);
      }
      return out as { [K in keyof S]: Checked<S[K]> };
    };
  },
};

/** Parse JSON text and validate it; errors name `source` and the field. */
export function parseJsonConfig<T>(text: string, source: string, schema: Check<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('', `${source}: not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  try {
    return schema(value, '');
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.field, `${source}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Read and validate a JSON config file. */
export function loadJsonConfigFile<T>(path: string, schema: Check<T>): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('', `${path}: cannot read config file (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  return parseJsonConfig(text, path, schema);
}

/**
 * Validate a command-line option value with a config check, turning a
 * ConfigError into a UsageError that names the option (CLIs exit 2 on it).
 */
export function checkOption<T>(option: string, value: unknown, validate: Check<T>): T {
  try {
    return validate(value, option);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new UsageError(`option ${option}: ${err.message.replace(/^field "[^"]*": /, '')}`, { cause: err });
    }
    throw err;
  }
}

/** True for errors a CLI should report as "bad input" (exit 2) rather than a crash. */
export function isUserError(err: unknown): err is SteppeError {
  return err instanceof UsageError || err instanceof ConfigError;
}
