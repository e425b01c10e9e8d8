import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { dirname } from 'node:path';
import {
  InvalidArgumentError,
  PUBLIC_KEY_BYTES,
  type SigningKeyPair,
  SteppeError,
  generateSigningKeyPair,
  keyFingerprint,
  keyPairFromPem,
  privateKeyToPem,
  rawPublicKey,
} from '@steppe/shared';

/** File name of the collector's signing key in its data directory (beside the database). */
export const COLLECTOR_KEY_FILE = 'collector-key.pem';

/** The collector's signing key as loaded from its file. */
export interface CollectorKey {
  readonly keys: SigningKeyPair;
  /** True when the file did not exist and was created now. */
  readonly created: boolean;
  /** True when the existing file is readable by group or others (it should be 0600). */
  readonly looseMode: boolean;
  readonly path: string;
}

/**
 * Load the collector's ed25519 signing key (PKCS#8 PEM), creating it on first
 * use with mode 0600. Creation uses O_EXCL, so two processes starting at
 * once never overwrite each other's key: the loser reads the winner's.
 */
export function loadOrCreateCollectorKey(path: string): CollectorKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const keys = generateSigningKeyPair();
    let fd: number | undefined;
    try {
      fd = openSync(path, 'wx', 0o600);
      writeSync(fd, privateKeyToPem(keys.privateKey));
      return { keys, created: true, looseMode: false, path };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new SteppeError('STEPPE_ERR_CONFIG', `cannot create the collector key ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_CONFIG', `cannot read the collector key ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  let keys: SigningKeyPair;
  try {
    keys = keyPairFromPem(pem);
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_CONFIG', `${path} is not an ed25519 private key in PKCS#8 PEM`, { cause });
  }
  const mode = statSync(path).mode & 0o777;
  return { keys, created: false, looseMode: (mode & 0o077) !== 0, path };
}

/** What `GET /api/v1/collector-key` answers: the public half, in forms tools read. */
export function collectorKeyDocument(publicKey: Uint8Array): { algorithm: 'ed25519'; public_key: string; fingerprint: string; pem: string } {
  const b64 = Buffer.from(publicKey).toString('base64');
  const pem = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]), format: 'der', type: 'spki' })
    .export({ format: 'pem', type: 'spki' })
    .toString();
  return { algorithm: 'ed25519', public_key: b64, fingerprint: keyFingerprint(publicKey), pem };
}

/**
 * Read a public key given on a command line: base64 of the 32 raw bytes, a
 * PEM SubjectPublicKeyInfo, or the JSON document of `/api/v1/collector-key`
 * — inline, or in a file of that path.
 */
export function parsePublicKeyArgument(value: string): Uint8Array {
  let text = value.trim();
  if (existsSync(text) && statSync(text).isFile()) text = readFileSync(text, 'utf8').trim();
  if (text.startsWith('{')) {
    try {
      const doc = JSON.parse(text) as { public_key?: unknown };
      if (typeof doc.public_key === 'string') text = doc.public_key;
    } catch {
      // fall through to the other forms
    }
  }
  if (text.includes('-----BEGIN')) {
    try {
      const key = createPublicKey(text);
      if (key.asymmetricKeyType !== 'ed25519') throw new InvalidArgumentError(`expected an ed25519 public key, got ${String(key.asymmetricKeyType)}`);
      return rawPublicKey(key);
    } catch (cause) {
      if (cause instanceof InvalidArgumentError) throw cause;
      throw new InvalidArgumentError('the PEM text is not a public key', { cause });
    }
  }
  const raw = Buffer.from(text, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || raw.length !== PUBLIC_KEY_BYTES) {
    throw new InvalidArgumentError(`expected a file, PEM, or base64 of a ${PUBLIC_KEY_BYTES}-byte ed25519 public key`);
  }
  return new Uint8Array(raw);
}
