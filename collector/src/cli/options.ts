import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, check, checkOption, systemResolver } from '@steppe/shared';
import { storeEngineOf } from '../store/open-store.js';

/** The PEM certificates in a file given to `option`; a UsageError naming it otherwise. */
export function readPemOption(option: string, path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UsageError(`option ${option}: cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new UsageError(`option ${option}: ${path} holds no PEM certificate`);
  return blocks.map((b) => `${b}\n`);
}

/** `IP:PORT`, or the system resolver from /etc/resolv.conf when absent. */
export function resolverOption(option: string, value: string | undefined): { host: string; port: number } {
  if (value !== undefined) return checkOption(option, value, check.ipPort());
  try {
    return systemResolver();
  } catch (cause) {
    throw new UsageError(`option ${option}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** A text secret read from a file (first line, trimmed), e.g. an admin token. */
export function readSecretOption(option: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new UsageError(`option ${option}: cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const secret = text.split('\n')[0]?.trim() ?? '';
  if (secret.length < 16) throw new UsageError(`option ${option}: ${path} must hold a secret of at least 16 characters`);
  return secret;
}

/**
 * The database of `--db`, else of $STEPPE_DB, else undefined (the command
 * decides its default): a PostgreSQL URL as given, a file path made
 * absolute. A URL of another scheme is a UsageError that never shows a
 * password.
 */
export function dbOption(value: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const [option, spec] = value !== undefined ? ['--db', value] : ['$STEPPE_DB', env['STEPPE_DB']];
  if (spec === undefined || spec === '') return undefined;
  let engine;
  try {
    engine = storeEngineOf(spec);
  } catch (cause) {
    throw new UsageError(`option ${option}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  return engine === 'postgresql' ? spec : resolve(spec);
}

/** Resolve once `signal` aborts (immediately if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
