import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, UsageError, check, checkOption, loadJsonConfigFile, parseJsonConfig } from '../src/index.js';

const schema = check.object({
  collector: check.url({ protocols: ['http:', 'https:'] }),
  resolver: check.optional(check.ipPort(), { host: '127.0.0.53', port: 53 }),
  allowNet: check.cidrList(),
  limits: check.object({
    concurrency: check.optional(check.integer({ min: 1, max: 64 }), 4),
    mode: check.optional(check.oneOf(['core', 'full'] as const), 'core'),
  }),
  tags: check.optional(check.list(check.string({ min: 1, max: 20 })), []),
});

describe('config validation', () => {
  it('returns typed values with defaults', () => {
    const c = parseJsonConfig('{"collector":"http://127.0.0.1:8080","allowNet":"127.0.0.0/8","limits":{}}', 'probe.json', schema);
    expect(c.limits.concurrency).toBe(4);
    expect(c.resolver).toEqual({ host: '127.0.0.53', port: 53 });
    expect(c.allowNet[0]?.text).toBe('127.0.0.0/8');
  });

  it('names the bad field and the expected form', () => {
    const bad = (json: string): ConfigError => {
      try {
        parseJsonConfig(json, 'probe.json', schema);
      } catch (err) {
        if (err instanceof ConfigError) return err;
        throw err;
      }
      throw new Error('accepted bad config');
    };
    const e1 = bad('{"collector":"ftp://x","allowNet":"127.0.0.0/8","limits":{}}');
    expect(e1.field).toBe('collector');
    expect(e1.message).toMatch(/probe\.json: field "collector": expected a URL starting with http:\/\/ or https:\/\//);
    const e2 = bad('{"collector":"http://a","allowNet":"127.0.0.0/8","limits":{"concurrency":0}}');
    expect(e2.message).toMatch(/field "limits\.concurrency": expected an integer from 1 to 64, got 0/);
    const e3 = bad('{"collector":"http://a","allowNet":"127.0.0.0/8","limits":{},"colector":1}');
    expect(e3.message).toMatch(/"colector" is not a known setting/);
    const e4 = bad('{"collector":"http://a","allowNet":"127.0.0.0/8","limits":{},"tags":["ok",""]}');
    expect(e4.field).toBe('tags[1]');
    expect(bad('{"collector":').message).toMatch(/not valid JSON/);
    expect(bad('{"collector":"http://a","allowNet":"10.0.0.0/99","limits":{}}').field).toBe('allowNet');
    expect(bad('{"collector":"http://a","allowNet":"127.0.0.0/8","resolver":"dns.google:53","limits":{}}').message).toMatch(/IP:PORT/);
  });

  it('reports unreadable files and turns option errors into usage errors', () => {
    expect(() => loadJsonConfigFile('/nonexistent/steppe.json', schema)).toThrow(/cannot read config file/);
    const dir = mkdtempSync(join(tmpdir(), 'steppe-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, '{"collector":"http://127.0.0.1:1","allowNet":["127.0.0.0/8","::1/128"],"limits":{"concurrency":"8"}}');
    expect(loadJsonConfigFile(file, schema).limits.concurrency).toBe(8);
    expect(() => checkOption('--concurrency', 'many', check.integer({ min: 1, max: 64 }))).toThrow(UsageError);
    expect(() => checkOption('--concurrency', 'many', check.integer({ min: 1, max: 64 }))).toThrow(/option --concurrency: expected an integer/);
  });
});
