import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, probeIdFromPublicKey, signBytes, verifyBytes } from '@steppe/shared';
import { KEY_FILE_NAME, loadOrCreateIdentity } from '../../src/identity/index.js';

const root = mkdtempSync(join(tmpdir(), 'steppe-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadOrCreateIdentity', () => {
  it('creates an ed25519 key with mode 0600 on first run and loads the same one after', () => {
    const dir = join(root, 'a');
    const first = loadOrCreateIdentity(dir);
    expect(first.created).toBe(true);
    expect(statSync(first.keyPath).mode & 0o777).toBe(0o600);
    expect(first.probeId).toBe(probeIdFromPublicKey(first.keys.publicKey));
    expect(first.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const again = loadOrCreateIdentity(dir);
    expect(again.created).toBe(false);
    expect(again.probeId).toBe(first.probeId);
    const sig = signBytes(again.keys.privateKey, new Uint8Array([1, 2, 3]));
    expect(verifyBytes(first.keys.publicKey, new Uint8Array([1, 2, 3]), sig)).toBe(true);
  });

  it('refuses a key readable by others, with the fix in the message, or repairs it when asked', () => {
    const dir = join(root, 'b');
    const { keyPath } = loadOrCreateIdentity(dir);
    chmodSync(keyPath, 0o644);
    expect(() => loadOrCreateIdentity(dir)).toThrow(ConfigError);
    expect(() => loadOrCreateIdentity(dir)).toThrow(`chmod 600 ${keyPath}`);
    const repaired = loadOrCreateIdentity(dir, { repairPermissions: true });
    expect(repaired.permissionsRepaired).toBe(true);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  });

  it('refuses a key file that is not an ed25519 key', () => {
    const dir = join(root, 'c');
    loadOrCreateIdentity(dir);
    writeFileSync(join(dir, KEY_FILE_NAME), 'not a key', { mode: 0o600 });
    expect(() => loadOrCreateIdentity(dir)).toThrow(/not an ed25519 PKCS#8 PEM key/);
  });

  it('concurrent first runs in separate processes agree on one key', async () => {
    // Uses probe/dist (built by `npm test` / `npx tsc -b`).
    const dir = join(root, 'd');
    const script = `const { loadOrCreateIdentity } = await import(${JSON.stringify(new URL('../../dist/identity/index.js', import.meta.url).href)}); process.stdout.write(loadOrCreateIdentity(process.argv[1]).probeId);`;
    const ids = await Promise.all([0, 1, 2, 3].map(() => new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', script, dir], (err, stdout) => (err === null ? resolve(stdout) : reject(err)));
    })));
    expect(ids.every((id) => /^p[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(1);
    expect(loadOrCreateIdentity(dir).probeId).toBe(ids[0]);
  });
});
