import { createHash } from 'node:crypto';
import type { steppe } from '@steppe/proto';
import {
  type MeasurementProps,
  type SigningKeyPair,
  decodeMeasurement,
  defaultVerdictReference,
  encodeMeasurement,
  generateSigningKeyPair,
  loadFingerprints,
  newId,
  probeIdFromPublicKey,
  sealBatch,
  verdictFor,
  withFingerprints,
  wire,
} from '@steppe/shared';
import type { IncomingMeasurement, ProbeNetwork, Store } from '../../collector/src/store/store.js';

/**
 * A day of realistic measurements for the dashboard test, committed through
 * the store's write path (signed batches, as ingest hands them over). Every
 * verdict comes from the verdict engine run on the observations and the
 * control, never written by hand:
 *
 * - 3 domains × 2 networks (Kazakhtelecom: 3 probes, Beeline: 2 probes),
 *   each probe measuring each domain every 20 minutes on 2020-12-06 (UTC);
 * - www.facebook.com on AS9198 from 04:02 to 07:47 UTC: TLS handshakes reset
 *   after a ClientHello naming it, while the same address completes with a
 *   benign SNI (an SNI reset: anomalous, not confirmed);
 * - www.instagram.com on AS9198 in the same window: plain-HTTP fetches answered
 *   with a blockpage that a fingerprint recognises (confirmed);
 * - every Beeline probe silent from 14:00 to 17:00 UTC: no data.
 *
 * The addresses below are strings in the measurements' data; nothing
 * connects to them.
 */

export const DAY_MS = Date.UTC(2020, 11, 6);
const MIN = 60_000;
const HOUR = 60 * MIN;
export const BLOCK_START_MS = DAY_MS + 4 * HOUR + 2 * MIN;
export const BLOCK_END_MS = DAY_MS + 7 * HOUR + 47 * MIN;
export const SILENT_START_MS = DAY_MS + 14 * HOUR;
export const SILENT_END_MS = DAY_MS + 17 * HOUR;

export const KAZAKHTELECOM: ProbeNetwork = { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' };
export const BEELINE: ProbeNetwork = { asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC' };

interface Site {
  readonly domain: string;
  readonly category: string;
  readonly ip: string;
  readonly title: string;
}

export const SITES: readonly Site[] = [
  { domain: 'www.facebook.com', category: 'GRP', ip: '31.13.72.36', title: 'Facebook - log in or sign up' },
  { domain: 'www.instagram.com', category: 'GRP', ip: '157.240.205.174', title: 'Instagram' },
  { domain: 'www.youtube.com', category: 'MMED', ip: '142.250.74.110', title: 'YouTube' },
];

/** A blockpage fingerprint of the lab (the bundled OONI list has no Kazakh HTTP one). */
const LAB_BLOCKPAGE_MARKER = 'steppe-lab-kz-blockpage';
const reference = withFingerprints(defaultVerdictReference(), {
  http: loadFingerprints(
    `name,scope,other_names,location_found,pattern_type,pattern,confidence_no_fp,expected_countries,source,exp_url,notes\nlab.kz_blockpage,isp,,body,contains,${LAB_BLOCKPAGE_MARKER},10,KZ,lab,,Lab blockpage\n`,
    '',
  ).http,
});

const sha = (data: string | Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
const page = (site: Site): string => `<html><head><title>${site.title}</title></head><body>${'content '.repeat(700)}</body></html>`;
const BLOCKPAGE = `<html><head><title>Access restricted</title></head><body><p>Access to this resource is restricted.</p><!-- ${LAB_BLOCKPAGE_MARKER} --></body></html>`;

type Situation = 'accessible' | 'sni_reset' | 'blockpage';

function control(site: Site, url: string): steppe.v1.ControlMeasurement.$Properties {
  const body = new TextEncoder().encode(page(site));
  return {
    failure: '',
    dns: { addresses: [{ ip: site.ip, asn: 32934, asOrg: 'AS32934' }], failure: '' },
    tcp: [{ ip: site.ip, port: url.startsWith('https:') ? 443 : 80, failure: '' }],
    tls: url.startsWith('https:') ? [{ serverName: site.domain, ip: site.ip, port: 443, failure: '', leafSha256: sha(`leaf of ${site.domain}`), validForDomain: true, issuerCn: 'DigiCert SHA2 High Assurance Server CA' }] : [],
    http: { statusCode: 200, bodyLength: body.length, title: site.title, headerNames: ['content-type', 'server'], failure: '', bodySha256: sha(body), bodyTruncated: false, finalUrl: url, throughputBps: 2_000_000 },
    measuredAtMs: DAY_MS,
    helper: 'http://127.0.0.1:9999',
    probeAddresses: [],
  };
}

function observations(site: Site, url: string, situation: Situation): steppe.v1.Observations.$Properties {
  const https = url.startsWith('https:');
  const port = https ? 443 : 80;
  const dns: steppe.v1.DnsQuery.$Properties = {
    resolver: '127.0.0.53:53', transport: wire.DnsTransport.DNS_TRANSPORT_UDP, queryType: 'A', hostname: site.domain,
    responses: [{ rcode: 0, idMatches: true, answers: [{ answerType: 'A', value: site.ip, ttl: 60 }], tMs: 9 }], failure: '', t0Ms: 0, t1Ms: 9,
  };
  const tcp: steppe.v1.TcpConnect.$Properties = { ip: site.ip, port, failure: '', t0Ms: 9, t1Ms: 40 };
  // A stand-in DER leaf, the same for every fetch of a site (as a real one would be for weeks).
  const leaf = new Uint8Array(Buffer.concat(Array.from({ length: 22 }, (_, i) => sha(`${site.domain} leaf ${i}`))));
  const tls = (sni: string, failure: string, controlSni: boolean): steppe.v1.TlsHandshake.$Properties => ({
    serverName: sni, ip: site.ip, port: 443, alpnOffered: ['h2', 'http/1.1'], negotiatedAlpn: failure === '' ? 'h2' : '',
    tlsVersion: failure === '' ? 'TLSv1.3' : '', peerCertificates: failure === '' ? [leaf] : [], verificationError: '', failure,
    t0Ms: 40, t1Ms: 75, controlSni,
  });
  const http = (body: string, title: string): steppe.v1.HttpRequest.$Properties => {
    const bytes = new TextEncoder().encode(body);
    return {
      url, method: 'GET', statusCode: 200, responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }],
      bodyLength: bytes.length, bodyTruncated: false, bodySha256: sha(bytes), bodyPrefix: bytes.subarray(0, 4096), title,
      failure: '', t0Ms: 75, t1Ms: 160, location: '', address: `${site.ip}:${port}`,
    };
  };
  switch (situation) {
    case 'accessible':
      return { dnsQueries: [dns], tcpConnects: [tcp], tlsHandshakes: https ? [tls(site.domain, '', false)] : [], httpRequests: [http(page(site), site.title)] };
    case 'sni_reset':
      return { dnsQueries: [dns], tcpConnects: [tcp], tlsHandshakes: [tls(site.domain, 'connection_reset', false), tls('example.org', '', true)], httpRequests: [] };
    case 'blockpage':
      return { dnsQueries: [dns], tcpConnects: [tcp], tlsHandshakes: [], httpRequests: [http(BLOCKPAGE, 'Access restricted')] };
  }
}

interface Observed {
  readonly url: string;
  readonly obs: steppe.v1.Observations.$Properties;
  readonly ctl: steppe.v1.ControlMeasurement.$Properties;
  readonly analysis: ReturnType<typeof verdictFor>;
}

// Observations depend only on the site and the situation (their times are
// relative to the start), so each pair is built, and judged by the engine, once.
const observed = new Map<string, Observed>();

function observe(site: Site, situation: Situation): Observed {
  const key = `${site.domain} ${situation}`;
  let o = observed.get(key);
  if (o === undefined) {
    const url = situation === 'blockpage' ? `http://${site.domain}/` : `https://${site.domain}/`;
    const obs = observations(site, url, situation);
    const ctl = control(site, url);
    o = { url, obs, ctl, analysis: verdictFor({ measurement: { input: url, domain: site.domain, observations: obs, control: ctl }, reference }) };
    observed.set(key, o);
  }
  return o;
}

/** One measurement as a probe makes it: observations, control, and the engine's verdict. */
export function measurement(probeId: string, startMs: number, site: Site, situation: Situation): MeasurementProps {
  const { url, obs, ctl, analysis } = observe(site, situation);
  return {
    id: newId(startMs),
    probeId,
    testName: 'web_connectivity',
    testVersion: '0.1.0',
    softwareName: 'steppe-probe',
    softwareVersion: '0.1.0',
    startTimeMs: startMs,
    runtimeMs: 160,
    input: url,
    domain: site.domain,
    categoryCode: site.category,
    testList: 'kz',
    testListVersion: '2020-12-01',
    observations: obs,
    control: ctl,
    analysis,
  };
}

interface Probe {
  readonly keys: SigningKeyPair;
  readonly probeId: string;
  readonly network: ProbeNetwork;
  sequence: number;
}

/** What the seeded network did at an instant, for one site. */
function situationAt(network: ProbeNetwork, site: Site, t: number): Situation {
  if (network.asn !== KAZAKHTELECOM.asn || t < BLOCK_START_MS || t >= BLOCK_END_MS) return 'accessible';
  if (site.domain === 'www.facebook.com') return 'sni_reset';
  if (site.domain === 'www.instagram.com') return 'blockpage';
  return 'accessible';
}

/** Seed the day; returns how many measurements were committed, per verdict. */
export async function seedDashboardDay(store: Store): Promise<{ committed: number; verdicts: Record<string, number> }> {
  const probes: Probe[] = [];
  for (const [network, n] of [[KAZAKHTELECOM, 3], [BEELINE, 2]] as const) {
    for (let i = 0; i < n; i += 1) {
      const keys = generateSigningKeyPair();
      const probe = { keys, probeId: probeIdFromPublicKey(keys.publicKey), network, sequence: 0 };
      await store.registerProbe(probe.probeId, keys.publicKey, DAY_MS, network);
      probes.push(probe);
    }
  }
  let committed = 0;
  const verdicts: Record<string, number> = {};
  for (const [p, probe] of probes.entries()) {
    // A batch per 5 minutes of measurements, received 30 s after the last started.
    for (let slot = DAY_MS; slot < DAY_MS + 24 * HOUR; slot += 20 * MIN) {
      const t0 = slot + p * 2 * MIN;
      if (probe.network.asn === BEELINE.asn && t0 >= SILENT_START_MS && t0 < SILENT_END_MS) continue;
      const items: IncomingMeasurement[] = SITES.map((site, s) => {
        const props = measurement(probe.probeId, t0 + s * 20_000, site, situationAt(probe.network, site, t0));
        const raw = encodeMeasurement(props);
        const decoded = decodeMeasurement(raw);
        if (!decoded.ok) throw decoded.error;
        const verdict = decoded.value.analysis?.verdict ?? '';
        verdicts[verdict] = (verdicts[verdict] ?? 0) + 1;
        return { id: decoded.value.id, raw, decoded: decoded.value };
      });
      probe.sequence += 1;
      const receivedMs = t0 + 2 * 20_000 + 30_000;
      const sealed = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence: probe.sequence, createdMs: receivedMs, measurements: items.map((m) => m.raw) });
      const [result] = await store.commitBatches([{
        probeId: probe.probeId,
        sequence: probe.sequence,
        header: sealed.header ?? new Uint8Array(),
        signature: sealed.signature ?? new Uint8Array(),
        receivedMs,
        network: probe.network,
        measurements: items,
      }]);
      committed += result?.stored.length ?? 0;
    }
  }
  return { committed, verdicts };
}
