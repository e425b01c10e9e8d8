import fc from 'fast-check';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CliIO, UsageError } from '@steppe/shared';
import { main } from '../../src/cli/main.js';
import { dbOption } from '../../src/cli/options.js';
import { openStore, redactDbUrl, storeEngineOf } from '../../src/store/open-store.js';

describe('storeEngineOf', () => {
  it('names PostgreSQL for libpq URLs and SQLite for everything else but other URLs', () => {
    for (const url of ['postgres://steppe@127.0.0.1:5432/steppe', 'postgresql://127.0.0.1/steppe', 'POSTGRES://x/y', 'postgres:///steppe?host=/var/run/postgresql&user=root']) {
      expect(storeEngineOf(url)).toBe('postgresql');
    }
    for (const path of ['collector.db', '/var/lib/steppe/collector.db', './data/c.db', ':memory:', 'C:\\steppe\\c.db']) expect(storeEngineOf(path)).toBe('sqlite');
    expect(() => storeEngineOf('mysql://root:hunter2@127.0.0.1/steppe')).toThrow(/neither a file path nor a postgres/);
    expect(() => storeEngineOf('mysql://root:hunter2@127.0.0.1/steppe')).not.toThrow(/hunter2/);
  });
});

describe('redactDbUrl', () => {
  it('hides the password of the user part and of password parameters, nothing else', () => {
    expect(redactDbUrl('postgres://alice:s3cret@db.example:5432/steppe')).toBe('postgres://alice:***@db.example:5432/steppe');
    expect(redactDbUrl('postgresql://alice@db.example/steppe')).toBe('postgresql://alice@db.example/steppe');
    expect(redactDbUrl('postgres:///steppe?host=/var/run/postgresql&user=root')).toBe('postgres:///steppe?host=/var/run/postgresql&user=root');
    expect(redactDbUrl('postgres://h/db?user=u&password=s3cret&sslmode=disable')).toBe('postgres://h/db?user=u&password=***&sslmode=disable');
    expect(redactDbUrl('postgres://h/db?sslpassword=k3y')).toBe('postgres://h/db?sslpassword=***');
    expect(redactDbUrl('postgres://u:p@ss/w?rd@h1:5432,h2:5433/db')).toBe('postgres://u:***@h1:5432,h2:5433/db');
    expect(redactDbUrl('/var/lib/steppe/collector.db')).toBe('/var/lib/steppe/collector.db');
  });

  it('never prints a password, whatever it holds', () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 24 }), fc.constantFrom('postgres', 'postgresql'), (tail, scheme) => {
      const password = `Zq9${tail}`;
      expect(redactDbUrl(`${scheme}://steppe:${password}@127.0.0.1:5432/steppe?sslmode=disable`)).not.toContain(password);
      expect(redactDbUrl(`${scheme}://127.0.0.1/steppe?user=steppe&password=${encodeURIComponent(password)}`)).not.toContain(encodeURIComponent(password));
    }), { numRuns: 300 });
  });
});

describe('--db and $STEPPE_DB', () => {
  it('makes a file path absolute, keeps a URL as given, falls back to $STEPPE_DB', () => {
    expect(dbOption('data/c.db', {})).toBe(fileURLToPath(new URL(`file://${process.cwd()}/data/c.db`)));
    expect(dbOption('postgres://steppe@127.0.0.1/steppe', { STEPPE_DB: '/other.db' })).toBe('postgres://steppe@127.0.0.1/steppe');
    expect(dbOption(undefined, { STEPPE_DB: 'postgresql:///steppe?host=/var/run/postgresql' })).toBe('postgresql:///steppe?host=/var/run/postgresql');
    expect(dbOption(undefined, { STEPPE_DB: '' })).toBeUndefined();
    expect(dbOption(undefined, {})).toBeUndefined();
    expect(() => dbOption('mysql://root:hunter2@h/db', {})).toThrow(UsageError);
    expect(() => dbOption(undefined, { STEPPE_DB: 'mysql://root:hunter2@h/db' })).toThrow(/\$STEPPE_DB: .*root:\*\*\*@h/);
  });

  it('a PostgreSQL URL that cannot be opened fails with a coded error that hides its password', async () => {
    const url = 'postgres://steppe:Sup3rSecret@127.0.0.1:1/steppe';
    const err = await openStore(url).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'STEPPE_ERR_STORAGE' });
    expect(String(err)).not.toContain('Sup3rSecret');
    let out = '';
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { out += chunk.toString(); cb(); } });
    const io: CliIO = { stdout: sink, stderr: sink, stdin: process.stdin, env: { STEPPE_DB: url }, signal: new AbortController().signal };
    const fixture = fileURLToPath(new URL('../ooni/fixtures/web_connectivity-0.2.jsonl', import.meta.url));
    expect(await main(['import-ooni', fixture], io)).toBe(1);
    expect(out).toContain('STEPPE_ERR_STORAGE');
    expect(out).not.toContain('Sup3rSecret');
  });
});
