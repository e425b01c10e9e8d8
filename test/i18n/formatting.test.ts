import { IntlMessageFormat } from 'intl-messageformat';
import { describe, expect, it } from 'vitest';
import {
  createTranslator, episodeSentence, type EpisodeFacts, languageOfLocaleEnvironment, languageOfTag, longDate, negotiateLanguage, rowLabel, stateLabel,
  translatorFor,
} from '@steppe/shared';

const ru = translatorFor('ru', 'collector');
const kk = translatorFor('kk', 'collector');
const en = translatorFor('en', 'collector');

describe('plurals', () => {
  it('Russian: 1 измерение, 2 измерения, 5 измерений, 11 измерений, 21 измерение', () => {
    const said = (n: number): string => ru.t('downloads.note', { count: n, from: 'a', to: 'b' });
    expect(said(1)).toContain(': 1 измерение (');
    expect(said(2)).toContain(': 2 измерения (');
    expect(said(5)).toContain(': 5 измерений (');
    expect(said(11)).toContain(': 11 измерений (');
    expect(said(21)).toContain(': 21 измерение (');
    expect(said(2311)).toContain(': 2\u00a0311 измерений (');
    const probes = (n: number): string => translatorFor('ru', 'probe').t('status.queuedValue', { count: n, bytes: '1 KiB', hasOldest: 'no', oldest: '' });
    expect([1, 2, 5, 11, 21].map(probes)).toEqual(['1 измерение, 1 KiB', '2 измерения, 1 KiB', '5 измерений, 1 KiB', '11 измерений, 1 KiB', '21 измерение, 1 KiB']);
  });

  it('Kazakh: no agreement after a numeral', () => {
    expect([1, 2, 5, 21].map((n) => kk.t('status.showing', { strips: n, episodes: n }))).toEqual([
      'Көрсетілгені: 1 жолақ және 1 эпизод.', 'Көрсетілгені: 2 жолақ және 2 эпизод.', 'Көрсетілгені: 5 жолақ және 5 эпизод.', 'Көрсетілгені: 21 жолақ және 21 эпизод.',
    ]);
  });

  it('English: singular and plural', () => {
    expect(en.t('status.showing', { strips: 1, episodes: 2 })).toBe('Showing 1 strip and 2 episodes.');
  });
});

describe('the translator', () => {
  it('falls back to English for a missing or broken message, else shows the key; never throws', () => {
    const tr = createTranslator({ language: 'ru', messages: { broken: '{n, plural, one {#}' }, MessageFormat: IntlMessageFormat, fallback: { broken: 'fine {n}', only: 'english' } });
    expect(tr.t('broken', { n: 1 })).toBe('fine 1');
    expect(tr.t('only')).toBe('english');
    expect(tr.t('nowhere')).toBe('nowhere');
    expect(tr.number(2311)).toBe('2\u00a0311');
  });

  it('treats "<" as text, not markup', () => {
    const tr = createTranslator({ language: 'en', messages: { m: '<b>{name}</b> & co' }, MessageFormat: IntlMessageFormat });
    expect(tr.t('m', { name: 'x' })).toBe('<b>x</b> & co');
  });
});

describe('choosing a language', () => {
  it('reads POSIX locales: LC_ALL, then LC_MESSAGES, then LANG', () => {
    expect(languageOfLocaleEnvironment({ LANG: 'kk_KZ.UTF-8' })).toBe('kk');
    expect(languageOfLocaleEnvironment({ LANG: 'ru_RU.UTF-8' })).toBe('ru');
    expect(languageOfLocaleEnvironment({ LANG: 'kk_KZ.UTF-8', LC_MESSAGES: 'ru_RU.UTF-8' })).toBe('ru');
    expect(languageOfLocaleEnvironment({ LANG: 'kk_KZ.UTF-8', LC_MESSAGES: 'ru_RU.UTF-8', LC_ALL: 'C.UTF-8' })).toBe('en');
    expect(languageOfLocaleEnvironment({ LANG: 'de_DE.UTF-8' })).toBe('en');
    expect(languageOfLocaleEnvironment({})).toBe('en');
    expect(languageOfTag('ru@cyrillic')).toBe('ru');
  });

  it('negotiates Accept-Language by weight', () => {
    expect(negotiateLanguage('ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7')).toBe('ru');
    expect(negotiateLanguage('de, kk;q=0.5, ru;q=0.4')).toBe('kk');
    expect(negotiateLanguage('en;q=0.2, ru;q=0.9')).toBe('ru');
    expect(negotiateLanguage('ru;q=0, de')).toBe('en');
    expect(negotiateLanguage('fr')).toBe('en');
    expect(negotiateLanguage(undefined)).toBe('en');
  });
});

describe('the words about evidence (one implementation: dashboard and Node)', () => {
  const episode: EpisodeFacts = {
    kind: 'blocking', domain: 'www.facebook.com', probe_asn: 9198, onset: '2020-12-06T04:00:00.000Z', end: '2020-12-06T08:00:00.000Z',
    ongoing: false, blocking_types: ['sni_reset'], probes: 3, measurements: 36, anomalies: 35, confirmed: 0,
  };
  const names = new Map([[9198, 'JSC Kazakhtelecom']]);

  it('writes the episode sentence in each language, with dates from Intl in the locale', () => {
    expect(episodeSentence(en, episode, 'Asia/Almaty', names)).toBe('On 6 December 2020, from 10:00 to 14:00 Asia/Almaty time (04:00–08:00 UTC), www.facebook.com showed signs of blocking (not confirmed by a blockpage or an interception certificate) on AS9198 JSC Kazakhtelecom (sni_reset); 3 probes, 36 measurements, 35 of them anomalous.');
    expect(episodeSentence(ru, { ...episode, confirmed: 30 }, 'Asia/Almaty', names)).toBe('6 декабря 2020 г. с 10:00 до 14:00 по времени Asia/Almaty (04:00–08:00 UTC) сайт www.facebook.com был заблокирован в сети AS9198 JSC Kazakhtelecom (sni_reset); 3 зонда, 36 измерений, из них 35 аномальных.');
    expect(episodeSentence(kk, { ...episode, confirmed: 30, probes: 1, measurements: 21, anomalies: 21 }, 'Asia/Almaty', names)).toBe('2020 ж. 6 желтоқсан күні Asia/Almaty уақытымен 10:00–14:00 аралығында (UTC бойынша 04:00–08:00) AS9198 JSC Kazakhtelecom желісінде www.facebook.com сайты бұғатталды (sni_reset); 1 зонд, 21 өлшеу, оның ішінде 21 аномалды өлшеу.');
    expect(episodeSentence(ru, { ...episode, probes: 21, measurements: 1, anomalies: 1, ongoing: true, end: '2020-12-07T08:00:00.000Z' }, 'Asia/Almaty', names))
      .toBe('С 6 декабря 2020 г. 10:00 до 7 декабря 2020 г. 14:00 по времени Asia/Almaty (2020-12-06 04:00 UTC — 2020-12-07 08:00 UTC) у сайта www.facebook.com в сети AS9198 JSC Kazakhtelecom были признаки блокировки (не подтверждённые страницей блокировки или сертификатом перехвата) (sni_reset); 21 зонд, 1 измерение, из них 1 аномальное. На конец диапазона эпизод ещё продолжался.');
    expect(longDate(kk, Date.UTC(2020, 11, 6), 'UTC')).toBe('2020 ж. 6 желтоқсан');
    expect(longDate(ru, Date.UTC(2021, 0, 31, 20), 'Asia/Almaty')).toBe('1 февраля 2021 г.');
    expect(longDate(en, Date.UTC(2020, 11, 6), 'UTC')).toBe('6 December 2020');
  });

  it('labels chart rows and states in each language', () => {
    expect(rowLabel(ru, null, null)).toBe('все домены · все сети');
    expect(rowLabel(kk, 'www.youtube.com', 9198, names)).toBe('www.youtube.com · AS9198 JSC Kazakhtelecom');
    expect(stateLabel(kk, 'confirmed')).toBe('Расталған бұғаттау');
    expect(stateLabel(ru, 'no_data')).toBe('Нет данных');
  });
});
