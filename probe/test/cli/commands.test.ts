import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '@steppe/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUDGET_FILE_NAME } from '../../src/budget/bandwidth-budget.js';
import { CONFIG_FILE_NAME } from '../../src/config/file.js';
import { CONSENT_FILE_NAME } from '../../src/consent/consent-record.js';
import { RUN_HISTORY_FILE_NAME } from '../../src/daemon/run-history.js';
import { KEY_FILE_NAME } from '../../src/identity/identity.js';
import { fakeCollector, labConfig, ME, probe, tempDataDir } from './helpers.js';

let collector: Awaited<ReturnType<typeof fakeCollector>>;
const cleanups: (() => void)[] = [];
const dataDir = (): string => {
  const t = tempDataDir();
  cleanups.push(t.cleanup);
  return t.dir;
};
beforeAll(async () => {
  collector = await fakeCollector();
});
afterAll(async () => {
  await collector.close();
  for (const c of cleanups) c();
});

describe('steppe-probe init', () => {
  it('shows the notice and refuses without acceptance off a terminal (exit 3): nothing written', async () => {
    const dir = dataDir();
    const r = await probe(['init', '--data-dir', dir, '--collector', collector.url]);
    expect(r.code).toBe(EXIT.CONSENT);
    expect(r.out).toContain('WHAT IS NEVER SENT');
    expect(r.err).toMatch(/--accept-risks \[STEPPE_ERR_CONSENT_REQUIRED\]/);
    expect(existsSync(join(dir, CONFIG_FILE_NAME))).toBe(false);
    expect(existsSync(join(dir, KEY_FILE_NAME))).toBe(false);
  });

  it('on a terminal: "yes" accepts; config, key and consent are written', async () => {
    const dir = dataDir();
    const r = await probe(['init', '--data-dir', dir, '--collector', collector.url, '--allow-net', '127.0.0.0/8', '--exclude-categories', 'LGBT,REL'], { tty: true, input: 'yes\n' });
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('Type "yes" to accept:');
    expect(r.out).toMatch(/probe id {5}p[0-9a-f]+/);
    const consent = JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8')) as { method: string; version: number };
    expect(consent).toMatchObject({ method: 'interactive', version: 1 });
    const config = JSON.parse(readFileSync(join(dir, CONFIG_FILE_NAME), 'utf8')) as { testLists: { excludeCategories: string[] }; network: { allowNet: string[] } };
    expect(config.testLists.excludeCategories).toEqual(['LGBT', 'REL']);
    expect(config.network.allowNet).toEqual(['127.0.0.0/8']);
    expect(existsSync(join(dir, KEY_FILE_NAME))).toBe(true);
  });

  it('on a terminal: anything but "yes" declines (exit 3), nothing written', async () => {
    const dir = dataDir();
    const r = await probe(['init', '--data-dir', dir, '--collector', collector.url], { tty: true, input: 'sure\n' });
    expect(r.code).toBe(EXIT.CONSENT);
    expect(r.out).toContain('Not accepted.');
    expect(existsSync(join(dir, CONSENT_FILE_NAME))).toBe(false);
  });

  it('--accept-risks accepts; running init again keeps the config and key', async () => {
    const dir = dataDir();
    const first = await probe(['init', '--data-dir', dir, '--collector', collector.url, '--accept-risks']);
    expect(first.code).toBe(EXIT.OK);
    expect(JSON.parse(readFileSync(join(dir, CONSENT_FILE_NAME), 'utf8'))).toMatchObject({ method: 'accept-risks-flag' });
    const key = readFileSync(join(dir, KEY_FILE_NAME), 'utf8');
    const again = await probe(['init', '--data-dir', dir, '--accept-risks']);
    expect(again.code).toBe(EXIT.OK);
    expect(again.out).toContain('(kept)');
    expect(readFileSync(join(dir, KEY_FILE_NAME), 'utf8')).toBe(key);
    const conflict = await probe(['init', '--data-dir', dir, '--collector', 'http://127.0.0.1:1', '--accept-risks']);
    expect(conflict.code).toBe(EXIT.USAGE);
    expect(conflict.err).toMatch(/exists; pass --force/);
    // Containers run init at every start: --if-missing keeps the config as it is.
    const kept = await probe(['init', '--data-dir', dir, '--collector', 'http://127.0.0.1:1', '--if-missing', '--accept-risks']);
    expect(kept.code).toBe(EXIT.OK);
    expect(JSON.parse(readFileSync(join(dir, CONFIG_FILE_NAME), 'utf8'))).toMatchObject({ collectors: [collector.url] });
    const forced = await probe(['init', '--data-dir', dir, '--collector', 'http://127.0.0.1:1', '--force', '--accept-risks']);
    expect(forced.code).toBe(EXIT.OK);
    expect(JSON.parse(readFileSync(join(dir, CONFIG_FILE_NAME), 'utf8'))).toMatchObject({ collectors: ['http://127.0.0.1:1'] });
  });

  it('bad options exit 2 naming the option, before the notice', async () => {
    const dir = dataDir();
    const cases: [string[], RegExp][] = [
      [[], /option --collector is required/],
      [['--collector', 'collector.example.org'], /option --collector: expected a URL/],
      [['--collector', collector.url, '--monthly-budget', 'lots'], /option --monthly-budget: expected a size/],
      [['--collector', collector.url, '--allow-net', '10.0.0.0/99'], /option --allow-net: expected a list of CIDRs/],
      [['--collector', collector.url, '--resolver', 'dns.google'], /network\.resolver.*"system" or IP:PORT/],
      [['--collector', collector.url, '--exclude-categories', 'lgbt'], /testLists\.excludeCategories\[0\]/],
      [['--collector', collector.url, '--frobnicate'], /Unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await probe(['init', '--data-dir', dir, '--accept-risks', ...args]);
      expect(r.code, args.join(' ')).toBe(EXIT.USAGE);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.out).toBe('');
    }
    expect(existsSync(join(dir, CONFIG_FILE_NAME))).toBe(false);
  });
});

describe('the consent gate on start and run', () => {
  it('start and run --once refuse with exit 3 until the notice is accepted', async () => {
    const dir = dataDir();
    labConfig(dir, { collectors: [collector.url], urls: [collector.pageUrl] });
    for (const args of [['start', '--data-dir', dir], ['run', '--once', '--data-dir', dir]]) {
      const r = await probe(args);
      expect(r.code, args[0]).toBe(EXIT.CONSENT);
      expect(r.err).toMatch(/informed-consent notice has not been accepted.*\[STEPPE_ERR_CONSENT_REQUIRED\]/);
    }
    expect(collector.posts()).toBe(0);
  });
});

describe('exit codes and configuration errors', () => {
  it('no config: start, run and status exit 2 and say to run init', async () => {
    const dir = dataDir();
    for (const args of [['start'], ['run', '--once'], ['status']]) {
      const r = await probe([...args, '--data-dir', dir]);
      expect(r.code, args[0]).toBe(EXIT.USAGE);
      expect(r.err).toMatch(/run `steppe-probe init --data-dir/);
    }
  });

  it('a bad config names the field and the expected form (exit 2)', async () => {
    const dir = dataDir();
    labConfig(dir, { collectors: [collector.url], urls: [collector.pageUrl] });
    const path = join(dir, CONFIG_FILE_NAME);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { schedule: Record<string, unknown> };
    doc.schedule['coreCron'] = 'every quarter hour';
    writeFileSync(path, JSON.stringify(doc));
    const r = await probe(['status', '--data-dir', dir]);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toMatch(/probe-config\.json: field "schedule\.coreCron": expected a cron expression such as "\*\/15 \* \* \* \*"/);
  });

  it('a collector outside network.allowNet is refused up front (exit 2)', async () => {
    const dir = dataDir();
    labConfig(dir, { collectors: ['http://192.0.2.1:8080'], urls: [collector.pageUrl] });
    await probe(['init', '--data-dir', dir, '--accept-risks']);
    const r = await probe(['run', '--once', '--data-dir', dir]);
    expect(r.code).toBe(EXIT.USAGE);
    expect(r.err).toMatch(/field "collectors\[0\]": http:\/\/192\.0\.2\.1:8080 is outside network\.allowNet/);
  });

  it('run without --once, unknown command, bad option values: exit 2', async () => {
    expect((await probe(['run'])).code).toBe(EXIT.USAGE);
    expect((await probe(['frobnicate'])).code).toBe(EXIT.USAGE);
    expect((await probe(['status', '--timeout-ms', 'soon'])).err).toMatch(/option --timeout-ms: expected an integer/);
    expect((await probe(['start', '--log-level', 'loud'])).err).toMatch(/option --log-level: expected one of "debug", "info", "warn", "error"/);
    expect((await probe(['run', '--once', '--list', 'everything'])).err).toMatch(/option --list: expected one of "core", "full"/);
  });
});

describe('steppe-probe run --once', () => {
  it('measures, shows progress lines off a terminal and a summary; unsent measurements: exit 1', async () => {
    const dir = dataDir();
    // The collector for uploads is down (a closed port); the control answers.
    labConfig(dir, { collectors: ['http://127.0.0.1:1'], control: collector.url, urls: [collector.pageUrl] });
    await probe(['init', '--data-dir', dir, '--accept-risks']);
    const r = await probe(['run', '--once', '--data-dir', dir, '--upload-timeout-ms', '200']);
    expect(r.code).toBe(EXIT.FAILED);
    expect(r.err).toMatch(/^\[1\/1\] \S+ http:\/\/127\.0\.0\.1:\d+\/page$/m);
    expect(r.out).toMatch(/^Run [0-9a-f-]{36}: full run completed in \d+s$/m);
    expect(r.out).toMatch(/Lists: core \(version lab-1\)/);
    expect(r.out).toMatch(new RegExp(`Control ${collector.url}: reachable`));
    expect(r.out).toMatch(/Collector http:\/\/127\.0\.0\.1:1: UNREACHABLE \(connection_refused\)/);
    expect(r.out).toMatch(/^ {2}verdict +count$/m);
    expect(r.out).toMatch(/Upload: 0 acknowledged, 3 left in the outbox/);
    expect(r.out + r.err).not.toContain(ME);
    const runs = JSON.parse(readFileSync(join(dir, RUN_HISTORY_FILE_NAME), 'utf8')) as { trigger: string; measured: number }[];
    expect(runs[0]).toMatchObject({ trigger: 'manual', measured: 3 });
  });

  it('draws a progress bar on a terminal', async () => {
    const dir = dataDir();
    labConfig(dir, { collectors: ['http://127.0.0.1:1'], control: collector.url, urls: [collector.pageUrl] });
    await probe(['init', '--data-dir', dir, '--accept-risks']);
    const r = await probe(['run', '--once', '--list', 'core', '--data-dir', dir, '--upload-timeout-ms', '0'], { tty: true });
    expect(r.err).toMatch(/\r\[#{24}\] 1\/1 100% {2}anomalies \d+ {2}http:\/\/127\.0\.0\.1:\d+\/page\x1b\[K/);
    expect(r.out).toMatch(/core run completed/);
  });
});

describe('steppe-probe status', () => {
  it('shows config, identity, consent, budget (and "core list only"), outbox, last runs, collector reachability', async () => {
    const dir = dataDir();
    labConfig(dir, { collectors: [collector.url, 'http://127.0.0.1:1'], urls: [collector.pageUrl] });
    const init = await probe(['init', '--data-dir', dir, '--accept-risks']);
    const fingerprint = /fingerprint {2}(SHA256:\S+)/.exec(init.out)?.[1] ?? 'missing';
    await probe(['run', '--once', '--list', 'core', '--data-dir', dir, '--upload-timeout-ms', '0']);
    const month = new Date().toISOString().slice(0, 7);
    writeFileSync(join(dir, BUDGET_FILE_NAME), JSON.stringify({ month, usedBytes: 11 * 2 ** 30, updatedAtMs: Date.now() }));

    const r = await probe(['status', '--data-dir', dir, '--timeout-ms', '2000']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain(`fingerprint  ${fingerprint}`);
    expect(r.out).toMatch(/collectors {2}http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:1/);
    expect(r.out).toMatch(/schedule +core "\*\/15 \* \* \* \*", full "0 \*\/6 \* \* \*" \(UTC\)/);
    expect(r.out).toMatch(/test lists +core \(version lab-1, collector\)/);
    expect(r.out).toMatch(/notice {2}version 1 accepted \d{4}-/);
    expect(r.out).toMatch(new RegExp(`Bandwidth budget \\(${month}, UTC\\)`));
    expect(r.out).toMatch(/used +11\.0 GiB of 10\.0 GiB, 0 B left/);
    expect(r.out).toContain('budget reached: core list only until the month ends');
    expect(r.out).toMatch(/queued +\d+ measurements?, /);
    expect(r.out).toMatch(/last upload +never/);
    expect(r.out).toMatch(/^ {2}\d{4}-\d\d-\d\dT\S+ +core +completed +3 +\d+/m);
    expect(r.out).toMatch(new RegExp(`${collector.url.replace(/[.:/]/g, '\\$&')} +collector +reachable \\(HTTP 405 in \\d+ ms\\)`));
    expect(r.out).toMatch(/http:\/\/127\.0\.0\.1:1 +collector +UNREACHABLE \(ECONNREFUSED/);
    expect(r.out).not.toContain(ME);

    const json = await probe(['status', '--data-dir', dir, '--json', '--timeout-ms', '2000']);
    const report = JSON.parse(json.out) as { budget: { coreListOnly: boolean }; collectors: { reachable: boolean }[]; identity: { fingerprint: string }; lastRuns: unknown[] };
    expect(report.budget.coreListOnly).toBe(true);
    expect(report.collectors.map((c) => c.reachable)).toEqual([true, false]);
    expect(report.identity.fingerprint).toBe(fingerprint);
    expect(report.lastRuns).toHaveLength(1);
  });

  it('before init: no consent, no key', async () => {
    const dir = dataDir();
    labConfig(dir, { collectors: [collector.url], urls: [collector.pageUrl] });
    const r = await probe(['status', '--data-dir', dir, '--timeout-ms', '1000']);
    expect(r.code).toBe(EXIT.OK);
    expect(r.out).toContain('NOT ACCEPTED: the probe will not measure');
    expect(r.out).toContain('none yet (run steppe-probe init)');
    expect(r.out).toContain('empty (nothing measured yet)');
  });
});
