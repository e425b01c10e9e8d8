import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultVerdictReference,
  findInterceptionRoot,
  loadFingerprints,
  parseCsv,
  readBundledInterceptionRootPems,
  referenceDataUrl,
  verdictFor,
  withFingerprints,
  withInterceptionRoots,
  loadInterceptionRoots,
} from '@steppe/shared';
import { DOMAIN, URL_HTTPS, control, http, observations, tls } from './helpers/build.js';
import { makeInterceptionPki, type InterceptionPki } from './helpers/pki.js';

// Tests over the real reference data copied into shared/data/.

describe('bundled challenge fingerprints', () => {
  it('loads every row of challenges/challenge_fingerprints.csv, each with its source', () => {
    const text = readFileSync(referenceDataUrl('challenges/challenge_fingerprints.csv'), 'utf8');
    const set = loadFingerprints(text, '');
    expect(set.skipped).toEqual([]);
    expect(set.http).toHaveLength(parseCsv(text).records.length - 1);
    expect(defaultVerdictReference().challengeFingerprints).toEqual(set.http);
    for (const fp of set.http) {
      expect(fp.name).toMatch(/^challenge\./);
      expect(['strong', 'false_positive']).toContain(fp.strength);
      expect(fp.source, fp.name).not.toBe('');
    }
  });
});

describe('bundled fingerprints', () => {
  const reference = defaultVerdictReference();

  it('loads every record of both OONI files', () => {
    const httpText = readFileSync(referenceDataUrl('fingerprints/fingerprints_http.csv'), 'utf8');
    const dnsText = readFileSync(referenceDataUrl('fingerprints/fingerprints_dns.csv'), 'utf8');
    const set = loadFingerprints(httpText, dnsText);
    expect(parseCsv(httpText).records.length - 1).toBe(1729);
    expect(parseCsv(dnsText).records.length - 1).toBe(226);
    expect(set.http.length + set.skipped.filter((s) => s.file === 'http').length).toBe(1729);
    expect(set.dns).toHaveLength(226);
    // Every row is usable, regular expressions included.
    expect(set.skipped).toEqual([]);
    expect(set.http.filter((f) => f.strength === 'false_positive')).toHaveLength(475);
    expect(reference.httpFingerprints).toHaveLength(1729);
  });

  it('cp.d_corp_kz_ps matches a body containing its text; the honest YouTube title (an fp row) is not a blockpage', () => {
    const body = '<html><head><meta charset="utf-8"><title>Блокировка</title></head><body><h1>Страница заблокирована</h1></body></html>';
    const blocked = verdictFor({
      measurement: { input: URL_HTTPS, domain: DOMAIN, observations: observations({ httpRequests: [http({ body })] }), control: control() },
      reference,
    });
    expect(blocked).toMatchObject({ verdict: 'blockpage', confirmed: true, fingerprintId: 'cp.d_corp_kz_ps' });

    const youtube = '<html><head><title>YouTube</title></head><body>Breaking News</body></html>';
    const honest = verdictFor({
      measurement: {
        input: URL_HTTPS,
        domain: DOMAIN,
        observations: observations({ httpRequests: [http({ body: youtube })] }),
        control: control({ http: { title: 'YouTube', bodyLength: youtube.length } }),
      },
      reference,
    });
    expect(honest.verdict).toBe('accessible');
  });
});

describe('bundled interception roots', () => {
  let pki: InterceptionPki;
  beforeAll(() => {
    pki = makeInterceptionPki();
  });
  afterAll(() => pki.cleanup());

  it('loads the ten Kazakh roots, Qaznet Trust Network among them, matching the CSV digests', () => {
    const roots = defaultVerdictReference().interceptionRoots;
    expect(roots).toHaveLength(10);
    const qaznet = roots.find((r) => r.subjectCn === 'Qaznet Trust Network');
    expect(qaznet?.sha256).toBe('00309c736dd661da6f1eb24173aa849944c168a43a15bffd192eecfdb6f8dbd2');
    const [, ...rows] = parseCsv(readFileSync(referenceDataUrl('interception/kz_interception_roots.csv'), 'utf8')).records;
    for (const { fields: [subject, , spki, cert] } of rows) {
      expect(roots.find((r) => r.sha256 === cert), cert).toMatchObject({ subjectCn: subject, spkiSha256: spki });
    }
    expect(roots.filter((r) => r.subjectCn === 'Information Security Certification Authority CA')).toHaveLength(1);
  });

  it('a Qaznet root sent by a middlebox is confirmed interception with its CN', () => {
    const qaznet = readBundledInterceptionRootPems().find((pem) => createHash('sha256').update(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')).digest('hex').startsWith('00309c73'));
    expect(qaznet).toBeDefined();
    const der = new Uint8Array(Buffer.from((qaznet ?? '').replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const a = verdictFor({
      measurement: {
        input: URL_HTTPS,
        domain: DOMAIN,
        observations: observations({ tlsHandshakes: [tls({ chain: [pki.leafViaRoot.der, der], verificationError: 'ssl_unknown_authority' })], httpRequests: [] }),
        control: control(),
      },
      reference: defaultVerdictReference(),
    });
    expect(a).toMatchObject({ verdict: 'interception', confirmed: true, interceptionIssuerCn: 'Qaznet Trust Network' });
    // Our lab leaf is not signed by Qaznet: only the root's fingerprint matched.
    expect(findInterceptionRoot([pki.leafViaRoot.der], defaultVerdictReference().interceptionRoots)).toBeUndefined();
  });

  it('extra roots (the probe\'s --interception-roots) are added without touching the cached bundle', () => {
    const base = defaultVerdictReference();
    expect(defaultVerdictReference()).toBe(base);
    const extended = defaultVerdictReference({ extraInterceptionRootPems: [pki.stateRoot.pem] });
    expect(extended.interceptionRoots).toHaveLength(11);
    expect(base.interceptionRoots).toHaveLength(10);
    expect(withInterceptionRoots(extended, loadInterceptionRoots([pki.stateRoot.pem])).interceptionRoots).toHaveLength(11);
    expect(findInterceptionRoot([pki.leafViaRoot.der], extended.interceptionRoots)?.issuerCn).toBe('Lab State Root');
    const more = withFingerprints(base, { http: [], dns: [] });
    expect(more.httpFingerprints).toHaveLength(base.httpFingerprints.length);
  });
});

describe('the data path works from the built package too', () => {
  const dist = fileURLToPath(new URL('../../dist/verdict/reference.js', import.meta.url));
  // dist/ exists after `npx tsc -b` (npm test builds first).
  it.skipIf(!existsSync(dist))('dist/verdict/reference.js finds shared/data/', () => {
    const script = `import(${JSON.stringify(dist)}).then((m) => { const r = m.defaultVerdictReference(); console.log(r.httpFingerprints.length, r.dnsFingerprints.length, r.interceptionRoots.length); })`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(out.trim()).toBe('1729 226 10');
  });
});
