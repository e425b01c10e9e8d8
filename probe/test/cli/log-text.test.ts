import { PassThrough } from 'node:stream';
import { JsonLog, ManualClock, translatorFor } from '@steppe/shared';
import { describe, expect, it } from 'vitest';
import { logDescriber } from '../../src/cli/log-text.js';

describe('the daemon log in the volunteer\'s language', () => {
  function lines(language: 'en' | 'ru' | 'kk', write: (log: JsonLog) => void): Record<string, unknown>[] {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const log = new JsonLog(out, { clock: new ManualClock(Date.UTC(2020, 11, 6)), describe: logDescriber(translatorFor(language, 'probe')), scrubForms: () => ['203.0.113.7'] });
    write(log);
    return text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  it('adds a msg in the language; event and field names stay English', () => {
    const fields = { run_id: 'r1', kind: 'full', outcome: 'completed', measured: 21, targets: 21, anomalies: 5, verdicts: { accessible: 16 } };
    const [ru] = lines('ru', (log) => log.info('run_finished', fields));
    expect(ru).toMatchObject({ event: 'run_finished', level: 'info', run_id: 'r1', measured: 21 });
    expect(ru?.['msg']).toBe('Запуск r1 (полный) завершён: измерено 21 из 21 адреса, 5 аномалий.');
    const [kk] = lines('kk', (log) => log.info('run_finished', fields));
    expect(kk?.['msg']).toBe('r1 іске қосу (толық) аяқталды: 21 мекенжайдың 21 өлшенді, 5 аномалия.');
    const [en] = lines('en', (log) => log.info('uplink_retrying', { in_ms: 1500, attempt: 2 }));
    expect(en?.['msg']).toBe('Reconnecting in 1,500 ms (attempt 2).');
  });

  it('scrubs addresses from msg as from every free-text field; events without a message get none', () => {
    const [error, other] = lines('ru', (log) => {
      log.warn('uplink_error', { collector: 'https://c.example', error: 'connect ECONNREFUSED 203.0.113.7:443 via 198.51.100.9' });
      log.info('no_such_event', {});
    });
    expect(String(error?.['msg'])).not.toContain('203.0.113.7');
    expect(String(error?.['msg'])).not.toContain('198.51.100.9');
    expect(String(error?.['msg'])).toContain('Коллектор https://c.example:');
    expect(other).not.toHaveProperty('msg');
  });
});
