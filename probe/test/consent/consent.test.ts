import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { hasErrorCode, ManualClock } from '@steppe/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { CONSENT_FILE_NAME, CONSENT_RECORD_VERSION, readConsent, recordConsent, requireConsent } from '../../src/consent/consent-record.js';
import { CONSENT_NOTICE, CONSENT_VERSION, consentNotice } from '../../src/consent/notice.js';
import { askForConsent } from '../../src/consent/prompt.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'steppe-consent-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('consent gate', () => {
  it('refuses without a record, with STEPPE_ERR_CONSENT_REQUIRED and what to do', () => {
    const dir = tempDir();
    let error: unknown;
    try {
      requireConsent(dir);
    } catch (err) {
      error = err;
    }
    expect(hasErrorCode(error, 'STEPPE_ERR_CONSENT_REQUIRED')).toBe(true);
    expect((error as Error).message).toMatch(/steppe-probe init --data-dir/);
  });

  it('records version, time and method, and then lets the probe run', () => {
    const dir = tempDir();
    const clock = new ManualClock(Date.UTC(2020, 11, 5, 18, 30));
    const record = recordConsent(dir, 'interactive', clock);
    expect(record).toEqual({
      formatVersion: CONSENT_RECORD_VERSION, version: CONSENT_VERSION, acceptedAtMs: Date.UTC(2020, 11, 5, 18, 30), acceptedAt: '2020-12-05T18:30:00.000Z', method: 'interactive',
      language: 'en', noticeVersion: consentNotice('en').version,
    });
    expect(JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8'))).toEqual(record);
    expect(readConsent(dir)).toEqual(record);
    expect(requireConsent(dir)).toEqual(record);
  });

  it('asks again when the notice changed (an older version on record)', () => {
    const dir = tempDir();
    recordConsent(dir, 'accept-risks-flag');
    expect(requireConsent(dir, CONSENT_VERSION).version).toBe(CONSENT_VERSION);
    expect(() => requireConsent(dir, CONSENT_VERSION + 1)).toThrow(`notice changed (accepted version ${CONSENT_VERSION}, current ${CONSENT_VERSION + 1})`);
  });

  it('reads a record of layout 1 (v0.1, no formatVersion) as it is, and refuses one newer than it knows', () => {
    const dir = tempDir();
    const v01 = { version: 1, acceptedAtMs: 1_607_193_000_000, acceptedAt: '2020-12-05T18:30:00.000Z', method: 'accept-risks-flag' };
    writeFileSync(join(dir, CONSENT_FILE_NAME), JSON.stringify(v01));
    expect(readConsent(dir)).toEqual({ ...v01, formatVersion: CONSENT_RECORD_VERSION });
    // Read, not rewritten: the file stays as v0.1 wrote it.
    expect(JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8'))).toEqual(v01);
    writeFileSync(join(dir, CONSENT_FILE_NAME), JSON.stringify({ ...v01, formatVersion: CONSENT_RECORD_VERSION + 1 }));
    expect(() => readConsent(dir)).toThrow(/consent\.json: field "formatVersion": \d+ is a newer layout than this probe knows \(\d+\); upgrade the probe/);
  });

  it('a damaged record is an error naming the file, never consent', () => {
    const dir = tempDir();
    writeFileSync(join(dir, CONSENT_FILE_NAME), '{"version": 1');
    expect(() => requireConsent(dir)).toThrow(/consent\.json: unreadable consent record/);
    writeFileSync(join(dir, CONSENT_FILE_NAME), JSON.stringify({ version: 1, acceptedAtMs: 1, acceptedAt: 'x', method: 'mind-reading' }));
    expect(() => requireConsent(dir)).toThrow(/field "method"/);
  });
});

describe('the interactive prompt', () => {
  async function answer(text: string | null): Promise<boolean> {
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const result = askForConsent(input, output);
    if (text === null) input.end();
    else input.write(text);
    return result;
  }

  it('"yes" (any case, spaces around) accepts', async () => {
    expect(await answer('yes\n')).toBe(true);
    expect(await answer('  YES \n')).toBe(true);
  });

  it('anything else, an empty line or end of input declines', async () => {
    expect(await answer('y\n')).toBe(false);
    expect(await answer('no\n')).toBe(false);
    expect(await answer('\n')).toBe(false);
    expect(await answer(null)).toBe(false);
  });

  it('an aborted signal declines', async () => {
    const controller = new AbortController();
    const input = new PassThrough();
    const output = new PassThrough();
    output.resume();
    const result = askForConsent(input, output, controller.signal);
    controller.abort();
    expect(await result).toBe(false);
  });
});

describe('the notice', () => {
  it('says what is measured, what is sent, what is never sent, and the risks', () => {
    for (const heading of ['WHAT THE PROBE DOES', 'WHAT IS SENT AND PUBLISHED', 'WHAT IS NEVER SENT', 'RISKS', 'YOUR CHOICES']) {
      expect(CONSENT_NOTICE).toContain(heading);
    }
    expect(CONSENT_NOTICE).toContain('[scrubbed]');
    expect(CONSENT_NOTICE).toMatch(/Kazakhstan/);
    expect(CONSENT_NOTICE).toContain('type "yes"');
  });

  it('fits a terminal: no line over 76 characters', () => {
    for (const line of CONSENT_NOTICE.split('\n')) expect(line.length, line).toBeLessThanOrEqual(76);
  });

  it('docs/privacy.md carries exactly the same text', () => {
    const doc = readFileSync(new URL('../../../docs/privacy.md', import.meta.url), 'utf8');
    const block = /<!-- consent-notice:begin -->\n```text\n([\s\S]*?)```\n<!-- consent-notice:end -->/.exec(doc)?.[1];
    expect(block).toBe(CONSENT_NOTICE);
    expect(doc).toContain(`version ${CONSENT_VERSION}`);
  });
});
