import { readFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import { ConfigError } from '@steppe/shared';

/**
 * How the collector accepts a probe key it has never seen:
 * - `open`: the first hello registers the key (trust on first use);
 * - `token`: the hello must carry one of the configured enrollment tokens.
 * Either way, a probe id already registered with another key is refused,
 * and a registered key needs no token again (docs/design/dd-002).
 */
export type Enrollment = { readonly mode: 'open' } | { readonly mode: 'token'; readonly tokens: readonly string[] };

/** Read enrollment tokens from a file: one per line, `#` comments and blank lines ignored. */
export function loadEnrollmentTokens(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('enrollmentTokens', `--enrollment-tokens ${path}: cannot read (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const tokens = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
  tokens.forEach((t, i) => checkToken(t, `${path}: token ${i + 1}`));
  if (tokens.length === 0) throw new ConfigError('enrollmentTokens', `--enrollment-tokens ${path}: no tokens in the file`);
  return tokens;
}

/** Validate an enrollment configuration; errors name the field. */
export function checkEnrollment(value: Enrollment, field = 'enrollment'): Enrollment {
  if (value.mode === 'open') return value;
  if (value.mode !== 'token') throw new ConfigError(`${field}.mode`, `field "${field}.mode": expected "open" or "token"`);
  if (value.tokens.length === 0) throw new ConfigError(`${field}.tokens`, `field "${field}.tokens": token enrollment needs at least one token`);
  value.tokens.forEach((t, i) => checkToken(t, `${field}.tokens[${i}]`));
  return value;
}

function checkToken(token: string, where: string): void {
  if (token.length < 16 || token.length > 256) throw new ConfigError('enrollmentTokens', `${where}: an enrollment token must be 16-256 characters`);
}

/** Compares a presented token with the configured ones in constant time per token. */
export class TokenSet {
  readonly #digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map(digest);
  }

  has(token: string): boolean {
    if (token.length === 0) return false;
    const d = digest(token);
    let found = false;
    for (const t of this.#digests) found = timingSafeEqual(t, d) || found;
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
