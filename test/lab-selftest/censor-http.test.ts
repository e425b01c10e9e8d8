import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BLOCKPAGE_BODY_FINGERPRINT, BLOCKPAGE_DNS_FINGERPRINT, BLOCKPAGE_DOMAIN, BLOCKPAGE_REDIRECT_FINGERPRINT, BLOCKPAGE_TEXT,
  CONTROL_SOURCE, FINGERPRINT_COLUMNS, LARGE_RESOURCE_PATH, httpGet,
} from '../lab/src/index.js';
import { useLab } from './use-lab.js';

const KZ = '127.0.2.1';
const BEELINE = '127.0.4.1';

const fixture = useLab({ largeBytes: 64 * 1024 });

function get(domain: string, scheme: 'http' | 'https', source: string, path = '/') {
  return httpGet(fixture.lab.url(domain, scheme, path), { address: fixture.lab.address(domain), localAddress: source, ca: fixture.lab.rootCaPem, timeoutMs: 10_000 });
}

/** Split one CSV line (RFC 4180 quoting), enough for OONI's fingerprint files. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i += 1; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(field); field = ''; } else field += c;
  }
  out.push(field);
  return out;
}

interface Fingerprint { name: string; location: string; type: string; pattern: string }

function readFingerprints(csv: string): Fingerprint[] {
  const [header, ...rows] = csv.trim().split('\n');
  expect(header).toBe(FINGERPRINT_COLUMNS);
  return rows.map((row) => {
    const f = csvFields(row);
    expect(f).toHaveLength(11);
    return { name: f[0] ?? '', location: f[3] ?? '', type: f[4] ?? '', pattern: f[5] ?? '' };
  });
}

/** OONI's matching rules for one fingerprint (pattern_type full | prefix | contains | regexp). */
function matches(fp: Fingerprint, value: string | undefined): boolean {
  if (value === undefined) return false;
  switch (fp.type) {
    case 'full': return value === fp.pattern;
    case 'prefix': return value.startsWith(fp.pattern);
    case 'contains': return value.includes(fp.pattern);
    case 'regexp': return new RegExp(fp.pattern).test(value);
    default: throw new Error(`unknown pattern_type ${fp.type}`);
  }
}

function matching(res: { body: Buffer; headers: Record<string, string | string[] | undefined> }, fingerprints: Fingerprint[]): string[] {
  return fingerprints.filter((fp) => {
    if (fp.location === 'body') return matches(fp, res.body.toString('utf8'));
    if (fp.location.startsWith('header.')) {
      const value = res.headers[fp.location.slice('header.'.length)];
      return matches(fp, Array.isArray(value) ? value.join(', ') : value);
    }
    return false;
  }).map((fp) => fp.name);
}

describe('censor: HTTP stage (by Host header and source network)', () => {
  it('the fingerprint files are OONI CSV and written to the lab directory', () => {
    expect(readFileSync(fixture.lab.fingerprints.httpFile, 'utf8')).toBe(fixture.lab.fingerprints.httpCsv);
    expect(readFingerprints(fixture.lab.fingerprints.httpCsv).map((f) => f.name)).toEqual([BLOCKPAGE_BODY_FINGERPRINT, BLOCKPAGE_REDIRECT_FINGERPRINT]);
    expect(readFingerprints(readFileSync(fixture.lab.fingerprints.dnsFile, 'utf8'))).toEqual([
      { name: BLOCKPAGE_DNS_FINGERPRINT, location: 'dns', type: 'full', pattern: fixture.lab.blockpageAddress },
    ]);
  });

  it('blockpage: status 200 with a body the fingerprint (and OONI\'s KZ pattern) matches; control gets the site', async () => {
    fixture.lab.censor.apply({ domains: 'www.facebook.com', networks: ['kazakhtelecom'], behaviour: { kind: 'http-blockpage' } });
    const fingerprints = readFingerprints(fixture.lab.fingerprints.httpCsv);
    const blocked = await get('www.facebook.com', 'http', KZ);
    expect(blocked.status).toBe(200);
    expect(matching(blocked, fingerprints)).toEqual([BLOCKPAGE_BODY_FINGERPRINT]);
    expect(blocked.body.toString()).toContain(BLOCKPAGE_TEXT);
    const honest = await get('www.facebook.com', 'http', CONTROL_SOURCE);
    expect(honest.status).toBe(200);
    expect(matching(honest, fingerprints)).toEqual([]);
    expect(honest.body.toString()).toContain('<title>Facebook - log in or sign up</title>');
    // Server-side blocking over HTTPS looks the same (OONI misses it; Steppe must not).
    expect(matching(await get('www.facebook.com', 'https', KZ), fingerprints)).toEqual([BLOCKPAGE_BODY_FINGERPRINT]);
  });

  it('redirect: a 302 to the blockpage host, whose page matches the fingerprint', async () => {
    fixture.lab.censor.apply({ domains: 'youtube.com', networks: ['beeline'], behaviour: { kind: 'http-redirect' } });
    const fingerprints = readFingerprints(fixture.lab.fingerprints.httpCsv);
    const hop = await get('youtube.com', 'http', BEELINE);
    expect(hop.status).toBe(302);
    const location = String(hop.headers.location);
    expect(location).toBe(`http://${BLOCKPAGE_DOMAIN}:${fixture.lab.ports.http}/?host=youtube.com`);
    expect(matching(hop, fingerprints)).toEqual([BLOCKPAGE_REDIRECT_FINGERPRINT]);
    const page = await httpGet(location, { address: fixture.lab.address(BLOCKPAGE_DOMAIN), localAddress: BEELINE });
    expect(page.status).toBe(200);
    expect(matching(page, fingerprints)).toEqual([BLOCKPAGE_BODY_FINGERPRINT]);
    expect((await get('youtube.com', 'http', KZ)).status).toBe(200);
  });

  it('http-reset: the request is read, then the connection reset', async () => {
    fixture.lab.censor.apply({ domains: 'vlast.kz', networks: ['kazakhtelecom'], behaviour: { kind: 'http-reset' } });
    expect(await get('vlast.kz', 'http', KZ)).toMatchObject({ status: undefined, error: 'ECONNRESET' });
    expect(await get('vlast.kz', 'https', KZ)).toMatchObject({ status: undefined, error: 'ECONNRESET' });
    expect((await get('vlast.kz', 'http', CONTROL_SOURCE)).status).toBe(200);
    expect(fixture.lab.log.events({ kind: 'http-request', action: 'http-reset' })).toEqual([
      expect.objectContaining({ source: KZ, host: 'vlast.kz', scheme: 'http', path: '/' }),
      expect.objectContaining({ source: KZ, host: 'vlast.kz', scheme: 'https', path: '/' }),
    ]);
  });

  it('throttling paces the body far below the unthrottled rate, for the in-country network only', async () => {
    const bitsPerSecond = 800_000; // 100 kB/s: fast enough for a quick test, slow next to loopback
    fixture.lab.censor.apply({ domains: 'www.youtube.com', networks: ['kazakhtelecom'], behaviour: { kind: 'throttle', bitsPerSecond } });
    const rate = (res: { body: Buffer; bodyMs: number }): number => (res.body.length * 8) / (Math.max(res.bodyMs, 1) / 1000);
    const slow = await get('www.youtube.com', 'https', KZ, LARGE_RESOURCE_PATH);
    const fast = await get('www.youtube.com', 'https', CONTROL_SOURCE, LARGE_RESOURCE_PATH);
    expect(slow).toMatchObject({ status: 200, error: undefined });
    expect(slow.body.equals(fast.body)).toBe(true);
    // Pacing can only make a transfer slower than the configured rate, never faster
    // (an upper bound cannot flake on a loaded machine).
    expect(rate(slow)).toBeLessThan(bitsPerSecond * 1.5);
    expect(rate(slow)).toBeLessThan(rate(fast) / 10);
    expect(fixture.lab.log.count({ kind: 'http-request', action: 'throttle', source: KZ })).toBe(1);
  });

  it('rules match the Host header, so the same address serves other names untouched', async () => {
    fixture.lab.censor.apply({ domains: 'instagram.com', networks: ['kazakhtelecom'], behaviour: { kind: 'http-blockpage' } });
    const other = await httpGet(fixture.lab.url('www.instagram.com', 'http'), { address: fixture.lab.address('instagram.com'), localAddress: KZ });
    expect(other.body.toString()).not.toContain(BLOCKPAGE_TEXT);
    expect((await get('instagram.com', 'http', KZ)).body.toString()).toContain(BLOCKPAGE_TEXT);
  });
});
