import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, publicUnicastNetworks } from '@steppe/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { parseByteSize } from '../../src/config/checks.js';
import { buildConfigDocument, configPath, defaultDataDir, loadProbeConfig, parseProbeConfig, resolverOf, writeProbeConfig } from '../../src/config/file.js';
import { CONFIG_DEFAULTS } from '../../src/config/schema.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'steppe-config-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const minimal = { configVersion: 1, dataDir: '/data', collectors: ['http://127.0.0.1:8080'] };

/** The ConfigError a config document raises. */
function configError(doc: unknown): ConfigError {
  try {
    parseProbeConfig(JSON.stringify(doc), 'probe-config.json');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('probe config', () => {
  it('fills every default from a minimal file', () => {
    const config = parseProbeConfig(JSON.stringify(minimal), 'x');
    expect(config.schedule).toEqual({ coreCron: '*/15 * * * *', fullCron: '0 */6 * * *', maxJitterSeconds: 300, timezone: 'UTC' });
    expect(config.testLists).toEqual({ lists: ['kz', 'global'], categories: [], excludeCategories: [], acceptFromCollector: true });
    expect(config.limits.monthlyBudgetBytes).toBe(10 * 2 ** 30);
    expect(config.limits.concurrency).toBe(4);
    expect(config.network.resolver).toBe('system');
    expect(config.network.allowNet.length).toBe(publicUnicastNetworks().length);
    expect(config.controlUrl).toBeNull();
  });

  it('takes sizes with units and "public" plus CIDRs in allowNet', () => {
    const config = parseProbeConfig(
      JSON.stringify({ ...minimal, limits: { monthlyBudgetBytes: '5GiB', maxBodyBytes: '256 KiB' }, network: { allowNet: ['public', '172.28.0.0/16'] } }),
      'x',
    );
    expect(config.limits.monthlyBudgetBytes).toBe(5 * 2 ** 30);
    expect(config.limits.maxBodyBytes).toBe(256 * 1024);
    expect(config.network.allowNet.at(-1)?.text).toBe('172.28.0.0/16');
    expect(parseProbeConfig(JSON.stringify({ ...minimal, limits: { monthlyBudgetBytes: null } }), 'x').limits.monthlyBudgetBytes).toBeNull();
    expect(parseByteSize('1.5 GB')).toBe(1.5e9);
    expect(parseByteSize('12 parsecs')).toBeUndefined();
  });

  // Each bad config names the field and the expected form.
  const bad: [string, unknown, string, RegExp][] = [
    ['no collectors', { ...minimal, collectors: [] }, 'collectors', /expected a list of 1 to 8 items/],
    ['a collector that is not a URL', { ...minimal, collectors: ['collector.example.org'] }, 'collectors[0]', /expected a URL starting with http:\/\/ or https:\/\//],
    ['a ws:// collector', { ...minimal, collectors: ['ws://127.0.0.1:8080'] }, 'collectors[0]', /http:\/\/ or https:\/\//],
    ['a bad cron', { ...minimal, schedule: { coreCron: 'every 15 minutes' } }, 'schedule.coreCron', /expected a cron expression such as "\*\/15 \* \* \* \*"/],
    ['a cron with a bad field', { ...minimal, schedule: { fullCron: '0 */6 * * 9' } }, 'schedule.fullCron', /cron expression/],
    ['an unknown time zone', { ...minimal, schedule: { timezone: 'Asia/Nowhere' } }, 'schedule.timezone', /IANA time zone/],
    ['negative jitter', { ...minimal, schedule: { maxJitterSeconds: -1 } }, 'schedule.maxJitterSeconds', /an integer from 0 to 3600/],
    ['a lower-case category', { ...minimal, testLists: { categories: ['news'] } }, 'testLists.categories[0]', /category code of 2-8 capital letters/],
    ['a bad list name', { ...minimal, testLists: { lists: ['Kazakhstan!'] } }, 'testLists.lists[0]', /list name/],
    ['zero concurrency', { ...minimal, limits: { concurrency: 0 } }, 'limits.concurrency', /an integer from 1 to 64/],
    ['a budget without unit sense', { ...minimal, limits: { monthlyBudgetBytes: 'lots' } }, 'limits.monthlyBudgetBytes', /"5GiB"/],
    ['a tiny body cap', { ...minimal, limits: { maxBodyBytes: 10 } }, 'limits.maxBodyBytes', /from 1024 to/],
    ['a resolver host name', { ...minimal, network: { resolver: 'dns.google:53' } }, 'network.resolver', /"system" or IP:PORT/],
    ['a bad CIDR', { ...minimal, network: { allowNet: ['127.0.0.0/33'] } }, 'network.allowNet', /CIDRs and\/or "public"/],
    ['a local address that is not an IP', { ...minimal, network: { localAddress: 'eth0' } }, 'network.localAddress', /an IP address/],
    ['an ftp proxy', { ...minimal, network: { proxy: 'ftp://127.0.0.1:21' } }, 'network.proxy', /socks5/],
    ['a typo in a field name', { ...minimal, limits: { concurency: 4 } }, 'limits.concurency', /not a known setting \(known: concurrency,/],
    ['an unknown top-level field', { ...minimal, colector: 'x' }, 'colector', /not a known setting/],
    ['a future config version', { ...minimal, configVersion: 2 }, 'configVersion', /2 is a newer layout than this probe knows \(1\); upgrade the probe/],
    ['a config version that is not a version', { ...minimal, configVersion: 0 }, 'configVersion', /an integer from 1 to 1/],
    ['a section that is not an object', { ...minimal, schedule: '*/15 * * * *' }, 'schedule', /expected an object/],
  ];
  for (const [what, doc, field, message] of bad) {
    it(`rejects ${what}, naming ${field}`, () => {
      const err = configError(doc);
      expect(err.field).toBe(field);
      expect(err.message).toMatch(/^probe-config\.json: /);
      expect(err.message).toContain(field);
      expect(err.message).toMatch(message);
    });
  }

  it('rejects a file that is not JSON, naming the file', () => {
    expect(() => parseProbeConfig('{"collectors": [', '/data/probe-config.json')).toThrow(/\/data\/probe-config\.json: not valid JSON/);
  });

  it('says to run init when there is no config', () => {
    const dir = tempDir();
    expect(() => loadProbeConfig(dir)).toThrow(/run `steppe-probe init --data-dir/);
  });

  it('buildConfigDocument writes every setting and validates the result; loading takes the folder as data dir', () => {
    const dir = tempDir();
    const doc = buildConfigDocument({ dataDir: '/elsewhere', collectors: ['https://c.example'], allowNet: ['public', '172.28.0.0/16'], monthlyBudget: '2GiB', excludeCategories: ['LGBT'] });
    writeProbeConfig(dir, doc);
    const text = JSON.parse(readFileSync(configPath(dir), 'utf8')) as { network: { allowNet: string[] }; schedule: object; limits: { monthlyBudgetBytes: number } };
    expect(text.network.allowNet).toEqual(['public', '172.28.0.0/16']);
    expect(text.schedule).toEqual({ coreCron: CONFIG_DEFAULTS.coreCron, fullCron: CONFIG_DEFAULTS.fullCron, maxJitterSeconds: 300, timezone: 'UTC' });
    expect(text.limits.monthlyBudgetBytes).toBe(2 * 2 ** 30);
    const config = loadProbeConfig(dir);
    expect(config.dataDir).toBe(dir);
    expect(config.testLists.excludeCategories).toEqual(['LGBT']);
    expect(() => buildConfigDocument({ dataDir: dir, collectors: ['https://c.example'], resolver: 'nope' })).toThrow(/network\.resolver/);
  });

  it('resolverOf: IP:PORT as given, "system" from resolv.conf, a clear error without one', () => {
    const dir = tempDir();
    const lab = parseProbeConfig(JSON.stringify({ ...minimal, network: { resolver: '127.0.0.53:5353' } }), 'x');
    expect(resolverOf(lab)).toEqual({ host: '127.0.0.53', port: 5353 });
    const system = parseProbeConfig(JSON.stringify(minimal), 'x');
    writeFileSync(join(dir, 'resolv.conf'), '# comment\nnameserver 127.0.0.53\noptions edns0\n');
    expect(resolverOf(system, join(dir, 'resolv.conf'))).toEqual({ host: '127.0.0.53', port: 53 });
    writeFileSync(join(dir, 'empty.conf'), 'search lan\n');
    expect(() => resolverOf(system, join(dir, 'empty.conf'))).toThrow(/network\.resolver.*set IP:PORT/);
  });

  it('the default data dir follows STEPPE_DATA_DIR, then systemd, then XDG', () => {
    expect(defaultDataDir({ STEPPE_DATA_DIR: '/srv/steppe' })).toBe('/srv/steppe');
    expect(defaultDataDir({ STATE_DIRECTORY: '/var/lib/steppe-probe' })).toBe('/var/lib/steppe-probe');
    expect(defaultDataDir({ XDG_STATE_HOME: '/home/v/.state' })).toBe('/home/v/.state/steppe-probe');
  });
});
