import { chmodSync, closeSync, lstatSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KEY_FILE_NAME } from '../identity/identity.js';

/** Mode of the data directory and every directory in it: the operator only. */
export const DATA_DIR_MODE = 0o700;
/** Mode of every file in the data directory. */
export const DATA_FILE_MODE = 0o600;

/**
 * Tighten `path` to `mode` when group or others have any bit on it; true
 * when it was changed. A path that does not exist is left alone. Modes are
 * POSIX: on Windows, where Node maps them to the read-only flag, nothing is
 * done.
 */
export function restrictMode(path: string, mode: number): boolean {
  if (process.platform === 'win32') return false;
  try {
    if ((lstatSync(path).mode & 0o077) === 0) return false;
    chmodSync(path, mode);
    return true;
  } catch (err) {
    // Gone meanwhile (another process renamed a temporary file over its target).
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Create `path` empty with mode 0600 when it does not exist yet, so that a
 * library creating it later (SQLite, with the umask's 0644) finds it private
 * already; an existing one is tightened to 0600.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', DATA_FILE_MODE));
  restrictMode(path, DATA_FILE_MODE);
}

/**
 * Repair the modes of a data directory made by an older version or copied
 * with a loose umask: the directory and every directory below it 0700, every
 * file 0600. Symbolic links are not followed. The probe key is left to its
 * own check: one others could read is refused, not repaired, since it may
 * have leaked (identity.ts tells the operator).
 *
 * Returns the paths repaired, relative to `dataDir` ("." for itself).
 */
export function secureDataDir(dataDir: string): string[] {
  const repaired: string[] = [];
  const visit = (path: string, relative: string): void => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // gone since it was listed
      throw err;
    }
    if (stat.isDirectory()) {
      if (restrictMode(path, DATA_DIR_MODE)) repaired.push(relative);
      for (const name of readdirSync(path).sort()) visit(join(path, name), relative === '.' ? name : join(relative, name));
    } else if (stat.isFile() && relative !== KEY_FILE_NAME) {
      if (restrictMode(path, DATA_FILE_MODE)) repaired.push(relative);
    }
  };
  visit(dataDir, '.');
  return repaired;
}
