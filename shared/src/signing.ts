import * as crypto from 'node:crypto';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/** Length of a raw ed25519 public key. */
export const PUBLIC_KEY_BYTES = 32;
/** Length of an ed25519 signature. */
export const SIGNATURE_BYTES = 64;

// DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410 §4): what turns the
// 32 raw key bytes carried on the wire into a key node:crypto accepts.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** An ed25519 identity: the private key stays on the machine that made it. */
export interface SigningKeyPair {
  readonly privateKey: KeyObject;
  /** Raw 32-byte public key, as carried in ProbeHello. */
  readonly publicKey: Uint8Array;
}

/** Make a new ed25519 key pair. */
export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/** The raw 32 bytes of an ed25519 public key object. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - PUBLIC_KEY_BYTES));
}

/** A public key object from the raw 32 bytes; throws InvalidArgumentError on bad input. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (raw.length !== PUBLIC_KEY_BYTES) {
    throw new InvalidArgumentError(`an ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${raw.length}`);
  }
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new InvalidArgumentError('not a valid ed25519 public key', { cause });
  }
}

/** PKCS#8 PEM of a private key, for the probe's key file (kept 0600). */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Load a private key from PKCS#8 PEM and return the pair. */
export function keyPairFromPem(pem: string): SigningKeyPair {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new InvalidArgumentError('not a PEM private key', { cause });
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InvalidArgumentError(`expected an ed25519 key, got ${String(privateKey.asymmetricKeyType)}`);
  }
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

/** ed25519 signature over exactly `data`. */
export function signBytes(privateKey: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, privateKey));
}

/**
 * Verify an ed25519 signature. Returns false (never throws) for a wrong key,
 * a malformed key or signature, or any altered byte.
 */
export function verifyBytes(publicKey: KeyObject | Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES) return false;
  try {
    const key = publicKey instanceof Uint8Array ? publicKeyFromRaw(publicKey) : publicKey;
    return verify(null, data, key, signature);
  } catch {
    return false;
  }
}

/**
 * The probe id for a public key: "p" + the first 16 bytes of its SHA-256 in
 * hex. Pseudonymous and stable; the collector recomputes it and refuses a
 * hello whose claimed id does not match.
 */
export function probeIdFromPublicKey(raw: Uint8Array): string {
  if (raw.length !== PUBLIC_KEY_BYTES) {
    throw new InvalidArgumentError(`an ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${raw.length}`);
  }
  return `p${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`;
}

/** Human-readable key fingerprint, as OpenSSH prints it: "SHA256:<base64>". */
export function keyFingerprint(raw: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(raw).digest('base64').replace(/=+$/, '')}`;
}

// crypto.hash (Node >= 20.12) digests in one call, without a Hash object:
// several times cheaper for the many small inputs of batches and export seals.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** SHA-256 of bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(oneShotHash !== undefined ? oneShotHash('sha256', data, 'buffer') : createHash('sha256').update(data).digest());
}
