import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  ConfigError,
  generateSigningKeyPair,
  keyFingerprint,
  keyPairFromPem,
  privateKeyToPem,
  probeIdFromPublicKey,
  type SigningKeyPair,
} from '@steppe/shared';

/** A probe's signing identity. The private key never leaves this machine. */
export interface ProbeIdentity {
  readonly keys: SigningKeyPair;
  /** Pseudonymous id derived from the public key (`probeIdFromPublicKey`). */
  readonly probeId: string;
  /** OpenSSH-style fingerprint of the public key, for `status` and logs. */
  readonly fingerprint: string;
  /** Path of the PKCS#8 PEM key file. */
  readonly keyPath: string;
  /** True when this call created the key (first run). */
  readonly created: boolean;
  /** True when the key file had looser permissions and was tightened to 0600. */
  readonly permissionsRepaired: boolean;
}

/** Options of {@link loadOrCreateIdentity}. */
export interface IdentityOptions {
  /**
   * When the key file is readable by group or others: false (default) refuses
   * with a message telling the operator how to fix it, as OpenSSH does; true
   * tightens it to 0600 and reports `permissionsRepaired`.
   */
  readonly repairPermissions?: boolean;
}

/** File name of the key inside the data directory. */
export const KEY_FILE_NAME = 'probe-key.pem';

const KEY_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Load the probe's ed25519 identity from `dataDir`, creating it on first run.
 * The key file is written with mode 0600 (created exclusively, fsynced, then
 * linked into place so two processes starting at once agree on one key).
 * A key file readable by group or others is refused (or repaired when asked):
 * whoever can read it can sign measurements in this probe's name.
 */
export function loadOrCreateIdentity(dataDir: string, options: IdentityOptions = {}): ProbeIdentity {
  if (typeof dataDir !== 'string' || dataDir.length === 0) {
    throw new ConfigError('dataDir', 'field "dataDir": expected a directory path, got nothing');
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  } catch (cause) {
    throw new ConfigError('dataDir', `cannot create data directory ${dataDir}: ${messageOf(cause)}`, { cause });
  }
  const keyPath = join(dataDir, KEY_FILE_NAME);
  let created = false;
  if (!exists(keyPath)) created = createKeyFile(keyPath);
  const permissionsRepaired = checkPermissions(keyPath, options.repairPermissions === true);
  let pem: string;
  try {
    pem = readFileSync(keyPath, 'utf8');
  } catch (cause) {
    throw new ConfigError('dataDir', `cannot read probe key ${keyPath}: ${messageOf(cause)}`, { cause });
  }
  let keys: SigningKeyPair;
  try {
    keys = keyPairFromPem(pem);
  } catch (cause) {
    throw new ConfigError('dataDir', `probe key ${keyPath} is not an ed25519 PKCS#8 PEM key (${messageOf(cause)}); move it away to create a new identity`, { cause });
  }
  return {
    keys,
    probeId: probeIdFromPublicKey(keys.publicKey),
    fingerprint: keyFingerprint(keys.publicKey),
    keyPath,
    created,
    permissionsRepaired,
  };
}

function createKeyFile(keyPath: string): boolean {
  const pem = privateKeyToPem(generateSigningKeyPair().privateKey);
  const tmp = `${keyPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', KEY_MODE);
    try {
      writeSync(fd, pem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The umask may have cleared bits but never adds any; chmod makes 0600 exact.
    chmodSync(tmp, KEY_MODE);
    try {
      linkSync(tmp, keyPath);
      return true;
    } catch (err) {
      // Another process created the key first: use theirs.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } catch (cause) {
    throw new ConfigError('dataDir', `cannot create probe key ${keyPath}: ${messageOf(cause)}`, { cause });
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
}

function checkPermissions(keyPath: string, repair: boolean): boolean {
  if (process.platform === 'win32') return false;
  const mode = statSync(keyPath).mode & 0o777;
  if ((mode & 0o077) === 0) return false;
  if (!repair) {
    throw new ConfigError(
      'dataDir',
      `probe key ${keyPath} has permissions ${mode.toString(8).padStart(4, '0')}: it must not be readable by group or others (anyone who can read it can sign measurements as this probe). Fix with: chmod 600 ${keyPath}`,
    );
  }
  try {
    chmodSync(keyPath, KEY_MODE);
  } catch (cause) {
    throw new ConfigError('dataDir', `probe key ${keyPath} has permissions ${mode.toString(8)} and could not be set to 0600: ${messageOf(cause)}`, { cause });
  }
  return true;
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new ConfigError('dataDir', `cannot inspect ${path}: ${messageOf(err)}`, { cause: err });
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
