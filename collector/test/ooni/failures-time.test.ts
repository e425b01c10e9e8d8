import { describe, expect, it } from 'vitest';
import { isFailure } from '@steppe/shared';
import { failureFromOoni, failureToOoni } from '../../src/ooni/failures.js';
import { compactOoniTime, formatOoniTime, msToSeconds, parseOoniTime, secondsToMs } from '../../src/ooni/time.js';

describe('failureFromOoni', () => {
  it.each([
    [null, ''],
    [false, ''],
    ['', ''],
    ['connection_reset', 'connection_reset'],
    ['generic_timeout_error', 'generic_timeout_error'],
    ['dns_nxdomain_error', 'dns_nxdomain_error'],
    ['connection_refused_error', 'connection_refused'],
    ['tcp_timed_out_error', 'generic_timeout_error'],
    ['dns_lookup_error', 'dns_nxdomain_error'],
    ['ssl_unknown_autority', 'ssl_unknown_authority'],
    ['dns_server_misbehaving', 'dns_servfail_error'],
    ['android_dns_cache_no_data', 'dns_no_answer'],
    ['unknown_failure: dial tcp [scrubbed]: connect: no route to host', 'unknown_failure: dial tcp [scrubbed]: connect: no route to host'],
    ['unknown_failure dial tcp 10.1.2.3:443: i/o timeout', 'unknown_failure: dial tcp [scrubbed]:443: i/o timeout'],
    ['unknown_error', 'unknown_failure: unknown_error'],
  ])('%j → %j', (ooni, steppe) => {
    expect(failureFromOoni(ooni)).toBe(steppe);
    if (steppe !== '') expect(isFailure(steppe)).toBe(true);
  });

  it('always yields a string of the vocabulary', () => {
    for (const s of ['weird', 'x'.repeat(1000), 'eof_error ', 'unknown_failure: ']) expect(isFailure(failureFromOoni(s))).toBe(true);
  });

  it('writes no failure as null', () => {
    expect(failureToOoni('')).toBeNull();
    expect(failureToOoni('eof_error')).toBe('eof_error');
  });
});

describe('OONI times', () => {
  it('parses "YYYY-MM-DD HH:MM:SS" as UTC and writes it back', () => {
    const ms = parseOoniTime('2020-12-06 10:02:07');
    expect(ms).toBe(Date.UTC(2020, 11, 6, 10, 2, 7));
    expect(formatOoniTime((ms ?? 0) + 999)).toBe('2020-12-06 10:02:07');
    expect(compactOoniTime(ms ?? 0)).toBe('20201206T100207Z');
  });

  it('refuses other forms and impossible dates', () => {
    for (const t of ['2020-12-06', '06/12/2020 10:02:07', '2020-02-30 10:00:00', '2020-12-06 24:00:00', '']) expect(parseOoniTime(t)).toBeUndefined();
  });

  it('converts seconds and milliseconds', () => {
    expect(msToSeconds(1234.5)).toBe(1.2345);
    expect(secondsToMs(0.655015)).toBe(655.015);
  });
});
