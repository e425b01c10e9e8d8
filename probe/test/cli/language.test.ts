import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, loadConsentNotice, translatorFor } from '@steppe/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSENT_FILE_NAME } from '../../src/consent/consent-record.js';
import { probe, tempDataDir } from './helpers.js';

/**
 * The probe's language, chosen as a volunteer would: the built CLI run as a
 * process with --lang, STEPPE_LANG and the POSIX locale in its environment
 * (needs `npx tsc -b`; npm test builds first).
 */
const BIN = fileURLToPath(new URL('../../bin/steppe-probe.js', import.meta.url));
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups) c();
});
const dataDir = (): string => {
  const t = tempDataDir();
  cleanups.push(t.cleanup);
  return t.dir;
};

/** Run the built CLI with only `env` (and PATH) in its environment, no terminal. */
function run(args: string[], env: Record<string, string>): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const INIT = (dir: string): string[] => ['init', '--data-dir', dir, '--collector', 'http://127.0.0.1:1', '--allow-net', '127.0.0.0/8', '--resolver', '127.0.0.1:9'];

describe('the language of the probe CLI', () => {
  it('LANG=kk_KZ.UTF-8: the whole notice and the error headline in Kazakh (init off a terminal exits 3)', () => {
    const r = run(INIT(dataDir()), { LANG: 'kk_KZ.UTF-8' });
    expect(r.code).toBe(EXIT.CONSENT);
    expect(r.out).toBe(`${loadConsentNotice('kk').text}\n`);
    expect(r.err).toContain(translatorFor('kk', 'probe').t('error.STEPPE_ERR_CONSENT_REQUIRED'));
    expect(r.err).toContain('[STEPPE_ERR_CONSENT_REQUIRED]');
  });

  it('STEPPE_LANG=ru wins over LANG; --lang wins over both; LC_ALL over LANG', () => {
    expect(run(INIT(dataDir()), { LANG: 'kk_KZ.UTF-8', STEPPE_LANG: 'ru' }).out).toBe(`${loadConsentNotice('ru').text}\n`);
    expect(run([...INIT(dataDir()), '--lang', 'en'], { LANG: 'kk_KZ.UTF-8', STEPPE_LANG: 'ru' }).out).toBe(`${loadConsentNotice('en').text}\n`);
    expect(run(['--lang=kk', ...INIT(dataDir())], { STEPPE_LANG: 'ru' }).out).toBe(`${loadConsentNotice('kk').text}\n`);
    expect(run(INIT(dataDir()), { LANG: 'kk_KZ.UTF-8', LC_ALL: 'ru_RU.UTF-8' }).out).toBe(`${loadConsentNotice('ru').text}\n`);
    expect(run(INIT(dataDir()), { LANG: 'de_DE.UTF-8' }).out).toBe(`${loadConsentNotice('en').text}\n`);
  });

  it('refuses a language it has no catalog for (exit 2), from --lang or STEPPE_LANG', () => {
    const bad = run([...INIT(dataDir()), '--lang', 'de'], {});
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.err).toContain('option --lang: expected one of en, ru, kk, got "de"');
    expect(run(INIT(dataDir()), { STEPPE_LANG: 'fr' }).err).toContain('STEPPE_LANG: expected one of en, ru, kk, got "fr"');
    expect(run(['status', '--lang'], {}).code).toBe(EXIT.USAGE);
  });

  it('status in Kazakh after init in Kazakh; the record keeps the language and the notice version; --json stays English', () => {
    const dir = dataDir();
    const init = run([...INIT(dir), '--accept-risks'], { LANG: 'kk_KZ.UTF-8' });
    expect(init.code).toBe(EXIT.OK);
    expect(init.out).toContain('Зонд дайын.');
    const record = JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ version: 1, method: 'accept-risks-flag', language: 'kk', noticeVersion: loadConsentNotice('kk').version });
    const status = run(['status', '--data-dir', dir, '--timeout-ms', '500'], { LANG: 'kk_KZ.UTF-8' });
    expect(status.code).toBe(EXIT.OK);
    for (const heading of ['Баптаулар', 'Сәйкестендіру', 'Ақпараттандырылған келісім', 'Жіберу кезегі', 'Соңғы іске қосулар', 'Коллекторлар (қазір тексерілді)']) expect(status.out).toContain(heading);
    expect(status.out).toMatch(/хабарлама +1-нұсқа қабылданды: \d{4}-.* \(қазақ тілінде\)/);
    expect(status.out).toMatch(/ҚОЛЖЕТІМСІЗ \(/);
    const ru = run(['status', '--data-dir', dir, '--timeout-ms', '500', '--lang', 'ru'], {});
    expect(ru.out).toContain('Информированное согласие');
    expect(ru.out).toContain('(на казахском)');
    const json = JSON.parse(run(['status', '--data-dir', dir, '--timeout-ms', '500', '--json'], { LANG: 'kk_KZ.UTF-8' }).out) as { consent: Record<string, unknown> };
    expect(json.consent).toMatchObject({ language: 'kk', current: true });
  });
});

describe('consent in the volunteer\'s language', () => {
  it('«иә» and «да» accept on a terminal, as "yes" does', async () => {
    for (const [lang, answer] of [['kk', 'иә'], ['ru', 'ДА'], ['ru', 'yes']] as const) {
      const dir = dataDir();
      const r = await probe([...INIT(dir), '--lang', lang], { tty: true, input: `${answer}\n` });
      expect(r.code, answer).toBe(EXIT.OK);
      expect(r.out).toContain(translatorFor(lang, 'probe').t('init.prompt'));
      expect(JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8'))).toMatchObject({ method: 'interactive', language: lang });
    }
    const declined = await probe([...INIT(dataDir()), '--lang', 'ru'], { tty: true, input: 'нет\n' });
    expect(declined.code).toBe(EXIT.CONSENT);
    expect(declined.out).toContain('Не принято.');
  });

  it('a changed notice in the language accepted asks again (run exits 3 until init)', async () => {
    const dir = dataDir();
    expect((await probe([...INIT(dir), '--accept-risks', '--lang', 'ru'])).code).toBe(EXIT.OK);
    const path = join(dir, CONSENT_FILE_NAME);
    const record = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    // As if the Russian text had been corrected since it was accepted.
    writeFileSync(path, JSON.stringify({ ...record, noticeVersion: 'sha256:0000000000000000' }));
    const r = await probe(['run', '--once', '--data-dir', dir, '--lang', 'ru']);
    expect(r.code).toBe(EXIT.CONSENT);
    expect(r.err).toContain('the informed-consent notice in "ru" changed since it was accepted');
    expect(r.err).toContain(translatorFor('ru', 'probe').t('error.STEPPE_ERR_CONSENT_REQUIRED'));
    const status = await probe(['status', '--data-dir', dir, '--timeout-ms', '500']);
    expect(status.out).toContain('but the notice changed');
  });
});
