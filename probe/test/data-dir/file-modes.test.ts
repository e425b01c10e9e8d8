import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePrivateFile, secureDataDir } from '../../src/data-dir/file-modes.js';
import { KEY_FILE_NAME } from '../../src/identity/identity.js';

const root = mkdtempSync(join(tmpdir(), 'steppe-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function mode(p: string): string {
  return (statSync(p).mode & 0o777).toString(8);
}

describe('data directory modes', () => {
  it('repairs a loose data directory: directories 0700, files 0600; the key and links are left alone', () => {
    const dir = join(root, 'data');
    mkdirSync(join(dir, 'test-lists'), { recursive: true });
    chmodSync(dir, 0o755);
    chmodSync(join(dir, 'test-lists'), 0o775);
    for (const [name, m] of [['outbox.sqlite', 0o644], ['outbox.sqlite-wal', 0o644], ['runs.json', 0o600], ['budget.json', 0o640], [join('test-lists', 'collector-bundle.json'), 0o666], [KEY_FILE_NAME, 0o644]] as const) {
      writeFileSync(join(dir, name), 'x');
      chmodSync(join(dir, name), m);
    }
    const outside = join(root, 'outside.pem');
    writeFileSync(outside, 'x');
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(dir, 'ca.pem'));

    expect(secureDataDir(dir)).toEqual(['.', 'budget.json', 'outbox.sqlite', 'outbox.sqlite-wal', 'test-lists', join('test-lists', 'collector-bundle.json')]);
    expect(mode(dir)).toBe('700');
    expect(mode(join(dir, 'test-lists'))).toBe('700');
    expect(mode(join(dir, 'outbox.sqlite'))).toBe('600');
    expect(mode(join(dir, 'budget.json'))).toBe('600');
    expect(mode(join(dir, 'test-lists', 'collector-bundle.json'))).toBe('600');
    // The key is refused by loadOrCreateIdentity, not silently repaired: it may have leaked.
    expect(mode(join(dir, KEY_FILE_NAME))).toBe('644');
    // A link is not followed out of the data directory.
    expect(mode(outside)).toBe('644');
    expect(secureDataDir(dir)).toEqual([]);
  });

  it('says nothing for a directory that does not exist yet', () => {
    expect(secureDataDir(join(root, 'none'))).toEqual([]);
  });

  it('creates a file private (0600) whatever the umask, and tightens an existing one', () => {
    const created = join(root, 'new.sqlite');
    const previous = process.umask(0o000);
    try {
      ensurePrivateFile(created);
    } finally {
      process.umask(previous);
    }
    expect(mode(created)).toBe('600');
    const loose = join(root, 'loose.sqlite');
    writeFileSync(loose, 'x', { mode: 0o666 });
    chmodSync(loose, 0o666);
    ensurePrivateFile(loose);
    expect(mode(loose)).toBe('600');
  });
});
