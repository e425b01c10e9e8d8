import { validate as validateCron } from 'node-cron';
import { type Check, type Cidr, ConfigError, parseCidr, publicUnicastNetworks } from '@steppe/shared';

// Validators the probe's config needs beyond the shared `check.*` blocks.
// Each names the field and the expected form, like the shared ones.

function fail(field: string, expected: string, value: unknown): never {
  const shown = JSON.stringify(value) ?? String(value);
  throw new ConfigError(field, `field "${field}": expected ${expected}, got ${shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`);
}

/** `null` stays null; anything else goes to `inner`. */
export function nullable<T>(inner: Check<T>): Check<T | null> {
  return (value, field) => (value === null ? null : inner(value, field));
}

/** A node-cron 4 expression (5 fields, or 6 with seconds first). */
export function cronExpression(): Check<string> {
  const expected = 'a cron expression such as "*/15 * * * *" (minute hour day-of-month month day-of-week)';
  return (value, field) => {
    if (typeof value !== 'string' || value.trim() === '' || !validateCron(value)) fail(field, expected, value);
    return value;
  };
}

/** An IANA time zone name that this Node.js knows (e.g. "UTC", "Asia/Almaty"). */
export function timeZone(): Check<string> {
  return (value, field) => {
    if (typeof value !== 'string' || value === '') fail(field, 'an IANA time zone such as "UTC" or "Asia/Almaty"', value);
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
    } catch {
      fail(field, 'an IANA time zone such as "UTC" or "Asia/Almaty"', value);
    }
    return value;
  };
}

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Parse "5GiB", "500 MB", "1024" into bytes; undefined when malformed. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (m === null) return undefined;
  const unit = UNITS[(m[2] ?? 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A byte count: an integer, or a string with a unit ("5GiB", "500MB"). */
export function byteSize(options: { readonly min: number; readonly max: number }): Check<number> {
  const expected = `a size from ${options.min} to ${options.max} bytes: an integer or a string such as "5GiB" or "500MB"`;
  return (value, field) => {
    const bytes = typeof value === 'number' ? value : typeof value === 'string' ? parseByteSize(value) : undefined;
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < options.min || bytes > options.max) fail(field, expected, value);
    return bytes;
  };
}

/** A Citizen Lab category code (2-8 capital letters, e.g. "NEWS"). */
export function categoryCode(): Check<string> {
  return (value, field) => {
    if (typeof value !== 'string' || !/^[A-Z]{2,8}$/.test(value)) fail(field, 'a category code of 2-8 capital letters such as "NEWS"', value);
    return value;
  };
}

/** "system" (the resolver of /etc/resolv.conf) or IP:PORT. */
export function resolverSetting(ipPort: Check<{ host: string; port: number }>): Check<string> {
  return (value, field) => {
    if (value === 'system') return value;
    if (typeof value !== 'string') fail(field, '"system" or IP:PORT such as 127.0.0.53:53', value);
    try {
      ipPort(value, field);
    } catch {
      fail(field, '"system" or IP:PORT such as 127.0.0.53:53', value);
    }
    return value;
  };
}

/** A test-list name: lowercase letters, digits, "-" or "_". */
export function listName(): Check<string> {
  return (value, field) => {
    if (typeof value !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(value)) fail(field, 'a list name such as "kz" or "global"', value);
    return value;
  };
}

/**
 * The egress allow-list: a list (or comma-separated string) of CIDRs and the
 * keyword "public" (every public unicast address: no private, loopback or
 * reserved range). Production default ["public"]; tests pass loopback only;
 * a collector on a private network (docker compose) is added by its CIDR.
 */
export function allowNetList(): Check<Cidr[]> {
  const expected = 'a list of CIDRs and/or "public", such as ["public", "172.28.0.0/16"] or "127.0.0.0/8,::1/128"';
  return (value, field) => {
    const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
    if (items === undefined || items.length === 0) fail(field, expected, value);
    const out: Cidr[] = [];
    for (const item of items) {
      if (typeof item !== 'string') fail(field, expected, value);
      const text = item.trim();
      if (text === 'public') {
        out.push(...publicUnicastNetworks());
        continue;
      }
      try {
        out.push(parseCidr(text));
      } catch {
        fail(field, expected, value);
      }
    }
    return out;
  };
}

/** The allow-list as written in the config: its items, normalised (e.g. ["public", "172.28.0.0/16"]). */
export function allowNetItems(value: unknown): string[] {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : [];
  return items.filter((i): i is string => typeof i === 'string').map((i) => i.trim()).filter((i) => i !== '');
}

/** A list of CIDRs, possibly empty (e.g. `network.labAddresses`). */
export function cidrs(): Check<Cidr[]> {
  const expected = 'a list of CIDRs such as ["127.0.0.0/8", "::1/128"] (or [])';
  return (value, field) => {
    const items = typeof value === 'string' ? value.split(',').filter((s) => s.trim() !== '') : value;
    if (!Array.isArray(items)) fail(field, expected, value);
    return items.map((item: unknown) => {
      if (typeof item !== 'string') fail(field, expected, value);
      try {
        return parseCidr(item.trim());
      } catch {
        return fail(field, expected, value);
      }
    });
  };
}
