import { createHash } from 'node:crypto';
import {
  type Measurement,
  type MeasurementProps,
  type SigningKeyPair,
  encodeMeasurement,
  generateSigningKeyPair,
  newId,
  probeIdFromPublicKey,
  sealBatch,
  wire,
} from '@steppe/shared';
import type { IncomingBatch, ProbeNetwork } from 'steppe-collector';
import { seededRandom } from '../../test/uplink/fixtures/realistic-measurements.js';

/**
 * A synthetic but realistic month of measurements: probes spread over
 * Kazakh ASNs by subscriber share, each measuring the same test list every
 * round (~78 minutes for 10 M measurements), with a known blocking
 * schedule, background noise (~1.5 % random failures), one noisy probe and
 * late deliveries after a shutdown. Deterministic for a given seed.
 */

/** A tiny deterministic PRNG (mulberry32): same seed, same data. */
export const prng = seededRandom;

function bytesOf(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let block = createHash('sha256').update(label).digest();
  for (let i = 0; i < length; i += 32) {
    out.set(block.subarray(0, Math.min(32, length - i)), i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export const NETWORKS: readonly (ProbeNetwork & { readonly weight: number })[] = [
  { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom', weight: 40 },
  { asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC', weight: 15 },
  { asn: 48503, cc: 'KZ', networkName: 'Tele2 Kazakhstan', weight: 10 },
  { asn: 35104, cc: 'KZ', networkName: 'JSC Kazakhtelecom (Almaty)', weight: 6 },
  { asn: 206026, cc: 'KZ', networkName: 'Kcell JSC', weight: 8 },
  { asn: 29355, cc: 'KZ', networkName: 'KazTransCom', weight: 4 },
  { asn: 9123, cc: 'KZ', networkName: 'TimeWeb (control)', weight: 3 },
  { asn: 50482, cc: 'KZ', networkName: 'Beeline Kazakhstan', weight: 5 },
  { asn: 39824, cc: 'KZ', networkName: 'Alma Telecommunications', weight: 3 },
  { asn: 41124, cc: 'KZ', networkName: 'Transtelecom', weight: 3 },
  { asn: 15549, cc: 'KZ', networkName: 'Aksoran', weight: 2 },
  { asn: 203087, cc: 'KZ', networkName: 'Smartnet', weight: 1 },
];

const CATEGORIES = ['GRP', 'NEWS', 'HUMR', 'POLR', 'COMT', 'MMED', 'SRCH', 'HOST', 'CULTR', 'GOVT'];

/** The test list: 60 domains; the first three are the ones blocked in the schedule. */
export const DOMAINS: readonly { readonly domain: string; readonly category: string }[] = [
  { domain: 'www.facebook.com', category: 'GRP' },
  { domain: 'www.instagram.com', category: 'GRP' },
  { domain: 'www.youtube.com', category: 'MMED' },
  ...Array.from({ length: 57 }, (_, i) => ({ domain: `site${String(i).padStart(2, '0')}.example.kz`, category: CATEGORIES[i % CATEGORIES.length] ?? 'MISC' })),
];

/** A blocking period with known truth. */
export interface BlockingWindow {
  readonly domains: readonly string[];
  readonly asns: readonly number[];
  readonly startMs: number;
  readonly endMs: number;
  readonly verdict: string;
  readonly blockingType: string;
}

/** A synthetic probe. */
export interface SyntheticProbe {
  readonly keys: SigningKeyPair;
  readonly probeId: string;
  readonly network: ProbeNetwork;
  /** Reports random failures far above the noise (a flaky home router). */
  readonly noisy: boolean;
  sequence: number;
}

/** A shutdown: every probe of the ASN is offline; its outbox delivers after `endMs`. */
export interface ShutdownWindow {
  readonly asn: number;
  readonly startMs: number;
  readonly endMs: number;
}

export interface SyntheticPlan {
  readonly shutdowns: readonly ShutdownWindow[];
  readonly startMs: number;
  readonly days: number;
  readonly probes: readonly SyntheticProbe[];
  readonly roundMs: number;
  readonly windows: readonly BlockingWindow[];
}

/** Plan `count` measurements over `days` days starting at `startMs`. */
export function plan(count: number, days: number, startMs: number, probeCount: number, seed: number): SyntheticPlan {
  const rand = prng(seed);
  const total = NETWORKS.reduce((s, n) => s + n.weight, 0);
  const probes: SyntheticProbe[] = [];
  for (let i = 0; i < probeCount; i += 1) {
    let pick = rand() * total;
    const network = NETWORKS.find((n) => (pick -= n.weight) < 0) ?? NETWORKS[0];
    if (network === undefined) throw new Error('no networks');
    const keys = generateSigningKeyPair();
    probes.push({ keys, probeId: probeIdFromPublicKey(keys.publicKey), network: { asn: network.asn, cc: network.cc, networkName: network.networkName }, noisy: i === 0, sequence: 0 });
  }
  const perRound = probeCount * DOMAINS.length;
  const rounds = Math.max(1, Math.ceil(count / perRound));
  const roundMs = Math.floor((days * 86_400_000) / rounds);
  const day = 86_400_000;
  const windows: BlockingWindow[] = [
    // The summit: 10:02-13:47 Almaty (UTC+6) on day 5, TLS SNI resets on the two largest ISPs.
    { domains: ['www.facebook.com', 'www.instagram.com', 'www.youtube.com'], asns: [9198, 21299], startMs: startMs + 5 * day + 4 * 3_600_000 + 2 * 60_000, endMs: startMs + 5 * day + 7 * 3_600_000 + 47 * 60_000, verdict: 'tls', blockingType: 'sni_reset' },
    // Interception with a state root on one ISP for two days.
    { domains: ['www.facebook.com'], asns: [48503], startMs: startMs + 12 * day, endMs: startMs + 14 * day, verdict: 'interception', blockingType: 'tls_mitm' },
    // A long DNS block of a news site everywhere.
    { domains: ['site01.example.kz'], asns: NETWORKS.map((n) => n.asn), startMs: startMs + 20 * day, endMs: startMs + 27 * day, verdict: 'dns', blockingType: 'dns_nxdomain' },
  ];
  const shutdowns: ShutdownWindow[] = [{ asn: 50482, startMs: startMs + 8 * day + 6 * 3_600_000, endMs: startMs + 8 * day + 10 * 3_600_000 }];
  return { startMs, days, probes, roundMs, windows, shutdowns };
}

interface Template {
  readonly leaf: Uint8Array;
  readonly intermediate: Uint8Array;
  readonly body: Uint8Array;
  readonly bodySha256: Uint8Array;
  readonly leafSha256: Uint8Array;
}

const INTERMEDIATES = [bytesOf('intermediate-a', 1100), bytesOf('intermediate-b', 1250), bytesOf('intermediate-c', 1180)];
const BLOCKPAGE = new TextEncoder().encode(`<html><head><title>Доступ ограничен</title></head><body>${'Доступ к ресурсу ограничен. '.repeat(30)}</body></html>`);
const TEMPLATES = new Map<string, Template>(DOMAINS.map((d, i) => [d.domain, {
  leaf: bytesOf(`leaf-${d.domain}`, 1300 + (i % 7) * 40),
  intermediate: INTERMEDIATES[i % INTERMEDIATES.length] ?? new Uint8Array(),
  body: bytesOf(`body-${d.domain}`, 1024),
  bodySha256: bytesOf(`sha-${d.domain}`, 32),
  leafSha256: bytesOf(`leafsha-${d.domain}`, 32),
}]));
const MITM_LEAF = bytesOf('qaznet-trust-network-leaf', 1350);
const MITM_ROOT = bytesOf('qaznet-trust-network-root', 1200);

/** One measurement's props, shaped like a web_connectivity result. */
export function measurement(probe: SyntheticProbe, domain: string, category: string, startMs: number, outcome: { verdict: string; blockingType: string; failure: string; confirmed: boolean }): MeasurementProps {
  const t = TEMPLATES.get(domain);
  if (t === undefined) throw new Error(`no template for ${domain}`);
  const anomaly = outcome.verdict !== 'accessible' && outcome.verdict !== 'down' && outcome.verdict !== '';
  const tlsFailed = outcome.blockingType === 'sni_reset';
  const mitm = outcome.blockingType === 'tls_mitm';
  const dnsFailed = outcome.verdict === 'dns';
  return {
    id: newId(startMs),
    probeId: probe.probeId,
    testName: 'web_connectivity',
    testVersion: '0.1.0',
    softwareName: 'steppe-probe',
    softwareVersion: '0.1.0',
    startTimeMs: startMs,
    runtimeMs: 900,
    input: `https://${domain}/`,
    domain,
    categoryCode: category,
    testList: 'kz',
    testListVersion: '2020-12-05',
    observations: {
      dnsQueries: [{ resolver: '127.0.0.53:53', transport: 1, queryType: 'A', hostname: domain, responses: dnsFailed ? [{ rcode: 3, tMs: 12 }] : [{ rcode: 0, answers: [{ answerType: 'A', value: '127.1.0.10', ttl: 300 }], tMs: 12, idMatches: true }], failure: dnsFailed ? 'dns_nxdomain_error' : '', t0Ms: 0.2, t1Ms: 12.4 }],
      tcpConnects: dnsFailed ? [] : [{ ip: '127.1.0.10', port: 443, t0Ms: 13, t1Ms: 41 }],
      tlsHandshakes: dnsFailed ? [] : [{
        serverName: domain, ip: '127.1.0.10', port: 443, alpnOffered: ['h2', 'http/1.1'], negotiatedAlpn: tlsFailed ? '' : 'h2', tlsVersion: tlsFailed ? '' : 'TLSv1.3', cipherSuite: tlsFailed ? '' : 'TLS_AES_128_GCM_SHA256',
        peerCertificates: tlsFailed ? [] : mitm ? [MITM_LEAF, MITM_ROOT] : [t.leaf, t.intermediate],
        verificationError: mitm ? 'ssl_unknown_authority' : '', failure: tlsFailed ? 'connection_reset' : '', t0Ms: 41, t1Ms: 95,
      }],
      httpRequests: dnsFailed || tlsFailed ? [] : [{
        url: `https://${domain}/`, method: 'GET', statusCode: 200,
        responseHeaders: [{ name: 'content-type', value: 'text/html; charset=utf-8' }, { name: 'server', value: 'nginx' }],
        bodyLength: 48_213, bodyTruncated: true, bodySha256: t.bodySha256, bodyPrefix: mitm ? BLOCKPAGE : t.body, title: domain, t0Ms: 96, t1Ms: 420, httpVersion: 'h2',
      }],
    },
    control: {
      dns: { addresses: [{ ip: '127.1.0.10', asn: 32934, asOrg: 'FACEBOOK' }] },
      tcp: [{ ip: '127.1.0.10', port: 443 }],
      tls: [{ serverName: domain, ip: '127.1.0.10', port: 443, leafSha256: t.leafSha256, validForDomain: true, issuerCn: 'DigiCert SHA2 High Assurance Server CA' }],
      http: { statusCode: 200, bodyLength: 48_213, title: domain, headerNames: ['content-type', 'server'], bodySha256: t.bodySha256, finalUrl: `https://${domain}/` },
      measuredAtMs: startMs + 200,
      helper: 'https://collector.example/api/v1/control',
    },
    analysis: {
      verdict: outcome.verdict, blockingType: outcome.blockingType, accessible: outcome.verdict === 'accessible', anomaly, confirmed: outcome.confirmed,
      failure: outcome.failure, failedStep: tlsFailed ? 'tls_handshake' : dnsFailed ? 'dns' : '',
      interceptionIssuerCn: mitm ? 'Qaznet Trust Network' : '',
      evidence: anomaly ? [`${outcome.blockingType} observed`] : [],
      controlSummary: { controlOk: true, dnsConsistency: dnsFailed ? 'inconsistent' : 'consistent', controlStatusCode: 200, controlBodyLength: 48_213, bodyProportion: 1, statusCodeMatch: true, titleMatch: true, headersMatch: true },
      engineVersion: '0.1.0',
    },
  };
}

/** The outcome of measuring `domain` from `probe` at `t`, by the schedule and some noise. */
export function outcome(p: SyntheticPlan, probe: SyntheticProbe, domain: string, t: number, rand: () => number): { verdict: string; blockingType: string; failure: string; confirmed: boolean } {
  // Inside a shutdown the control is unreachable too: no verdict, as a probe records it (docs/design/dd-007-episodes.md).
  if (shutdownAt(p, probe, t) !== undefined) return { verdict: '', blockingType: '', failure: 'generic_timeout_error', confirmed: false };
  for (const w of p.windows) {
    if (t >= w.startMs && t < w.endMs && w.domains.includes(domain) && w.asns.includes(probe.network.asn) && rand() < 0.93) {
      const failure = w.blockingType === 'sni_reset' ? 'connection_reset' : w.blockingType === 'dns_nxdomain' ? 'dns_nxdomain_error' : '';
      return { verdict: w.verdict, blockingType: w.blockingType, failure, confirmed: w.blockingType === 'tls_mitm' };
    }
  }
  const noise = probe.noisy ? 0.3 : 0.015;
  if (rand() < noise) return { verdict: 'tcp_ip', blockingType: 'tcp_timeout', failure: 'generic_timeout_error', confirmed: false };
  return { verdict: 'accessible', blockingType: '', failure: '', confirmed: false };
}

function shutdownAt(p: SyntheticPlan, probe: SyntheticProbe, t: number): ShutdownWindow | undefined {
  return p.shutdowns.find((w) => w.asn === probe.network.asn && t >= w.startMs && t < w.endMs);
}

/**
 * Stream signed batches round by round (each probe's round = one batch),
 * `batchesPerYield` at a time, until `count` measurements were made.
 */
export function* batches(p: SyntheticPlan, count: number, seed: number, receivedDelayMs = 20_000): Generator<IncomingBatch[], void, undefined> {
  const rand = prng(seed ^ 0x5eed);
  let made = 0;
  for (let round = 0; made < count; round += 1) {
    const roundStart = p.startMs + round * p.roundMs;
    const group: IncomingBatch[] = [];
    for (const probe of p.probes) {
      if (made >= count) break;
      const offset = Math.floor(rand() * (p.roundMs / 2));
      const n = Math.min(DOMAINS.length, count - made);
      const measurements = [];
      const raws: Uint8Array[] = [];
      for (let i = 0; i < n; i += 1) {
        const d = DOMAINS[i];
        if (d === undefined) continue;
        const t = roundStart + offset + i * 2_000;
        const props = measurement(probe, d.domain, d.category, t, outcome(p, probe, d.domain, t, rand));
        const decoded: Measurement = wire.Measurement.create(props);
        const raw = encodeMeasurement(decoded);
        raws.push(raw);
        measurements.push({ id: decoded.id, raw, decoded });
      }
      made += measurements.length;
      probe.sequence += 1;
      const roundEnd = roundStart + offset + n * 2_000;
      const offline = shutdownAt(p, probe, roundStart + offset);
      // During a shutdown the outbox keeps the batch until the network is back.
      const receivedMs = offline === undefined ? roundEnd + receivedDelayMs : Math.max(roundEnd, offline.endMs) + 5 * 60_000 + Math.floor(rand() * 600_000);
      const sealed = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence: probe.sequence, createdMs: receivedMs, measurements: raws });
      group.push({ probeId: probe.probeId, sequence: probe.sequence, header: sealed.header ?? new Uint8Array(), signature: sealed.signature ?? new Uint8Array(), receivedMs, network: probe.network, measurements });
    }
    yield group;
  }
}
