import { readFileSync } from 'node:fs';
import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import {
  CATALOG_DOMAINS, catalogPath, consentNoticePath, ERROR_CODES, LANGUAGES, loadCatalog, loadConsentNotice, messageArguments,
  parseCatalog, parseConsentNotice,
} from '@steppe/shared';

/**
 * The translators' check (`npm run check:translations`, docs/translations.md):
 * every key of the English catalogs exists in every language and no other,
 * every message parses as ICU MessageFormat and uses the same arguments as
 * the English one, and every notice has the English notice's sections. Each
 * failure names the file and the key.
 */

function catalogProblems(): string[] {
  const problems: string[] = [];
  for (const domain of CATALOG_DOMAINS) {
    const english = loadCatalog('en', domain);
    for (const language of LANGUAGES) {
      const path = catalogPath(language, domain);
      const catalog = parseCatalog(readFileSync(path, 'utf8'), path);
      for (const key of Object.keys(english)) if (!Object.hasOwn(catalog, key)) problems.push(`${path}: missing key ${JSON.stringify(key)}`);
      for (const [key, message] of Object.entries(catalog)) {
        const source = english[key];
        if (source === undefined) {
          problems.push(`${path}: key ${JSON.stringify(key)} is not in the English catalog`);
          continue;
        }
        let args: string[];
        try {
          args = messageArguments(message, IntlMessageFormat);
        } catch (err) {
          problems.push(`${path}: ${JSON.stringify(key)} is not valid ICU MessageFormat (${err instanceof Error ? err.message : String(err)})`);
          continue;
        }
        const expected = messageArguments(source, IntlMessageFormat);
        if (args.join(',') !== expected.join(',')) {
          problems.push(`${path}: ${JSON.stringify(key)} uses {${args.join('}, {')}}, the English message {${expected.join('}, {')}}`);
        }
      }
    }
  }
  return problems;
}

function noticeProblems(): string[] {
  const problems: string[] = [];
  const english = loadConsentNotice('en').sections.map((s) => s.id);
  for (const language of LANGUAGES) {
    const path = consentNoticePath(language);
    const { text, sections } = parseConsentNotice(readFileSync(path, 'utf8'));
    const ids = sections.map((s) => s.id);
    if (ids.join(',') !== english.join(',')) problems.push(`${path}: sections ${ids.join(', ')}; the English notice has ${english.join(', ')}, in that order`);
    for (const s of sections) if (s.text === '') problems.push(`${path}: section ${s.id} is empty`);
    text.split('\n').forEach((line, i) => {
      if ([...line].length > 76) problems.push(`${path}: shown line ${i + 1} is longer than 76 characters: ${line}`);
    });
  }
  return problems;
}

describe('the message catalogs', () => {
  it('every language has every key, and each message the same placeholders as in English', () => {
    expect(catalogProblems(), 'fix these lines of the catalogs').toEqual([]);
  });

  it('the check finds a missing key and a placeholder mismatch', () => {
    const en = { 'a.b': '{count, plural, one {# site} other {# sites}} on {network}' };
    expect(messageArguments(en['a.b'], IntlMessageFormat)).toEqual(['count', 'network']);
    expect(messageArguments('{count, plural, other {# сайт}} в сети {netwrk}', IntlMessageFormat)).toEqual(['count', 'netwrk']);
    expect(messageArguments('{kind, select, full {Полный {n}} other {Основной}}', IntlMessageFormat)).toEqual(['kind', 'n']);
    expect(() => messageArguments('{count, plural, one {# сайт}', IntlMessageFormat)).toThrow();
  });

  it('has a headline for every error code in every language', () => {
    for (const language of LANGUAGES) {
      const catalog = loadCatalog(language, 'probe');
      for (const code of Object.keys(ERROR_CODES)) expect(catalog[`error.${code}`], `${language} error.${code}`).toBeTruthy();
    }
  });
});

describe('the consent notice', () => {
  it('has, in every language, every section of the English one, none empty, lines of at most 76 characters', () => {
    expect(loadConsentNotice('en').sections.map((s) => s.id)).toEqual(['title', 'intro', 'does', 'sent', 'never-sent', 'risks', 'choices', 'accept']);
    expect(noticeProblems(), 'fix these lines of the notices').toEqual([]);
  });

  it('names the risks, the scrubbing and the answers in each language', () => {
    const ru = loadConsentNotice('ru');
    const kk = loadConsentNotice('kk');
    expect(ru.sections.find((s) => s.id === 'risks')?.text).toMatch(/^РИСКИ/);
    expect(kk.sections.find((s) => s.id === 'risks')?.text).toMatch(/^ТӘУЕКЕЛДЕР/);
    for (const n of [ru, kk]) expect(n.text).toContain('[scrubbed]');
    expect(ru.sections.find((s) => s.id === 'accept')?.text).toContain('«да»');
    expect(kk.sections.find((s) => s.id === 'accept')?.text).toContain('«иә»');
    // Kazakh letters, not look-alikes from other scripts.
    expect(kk.text).toMatch(/[әғқңөұүһі]/);
  });

  it('parses sections and hides translators\' notes; the version is a digest of the text shown', () => {
    const parsed = parseConsentNotice('# a note\n#section title\nTITLE\n\n#section body\nline one\nline two\n\n');
    expect(parsed.text).toBe('TITLE\n\nline one\nline two\n');
    expect(parsed.sections).toEqual([{ id: 'title', text: 'TITLE' }, { id: 'body', text: 'line one\nline two' }]);
    const versions = LANGUAGES.map((l) => loadConsentNotice(l).version);
    for (const v of versions) expect(v).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(new Set(versions).size).toBe(3);
  });
});
