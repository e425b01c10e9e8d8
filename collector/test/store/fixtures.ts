import { randomBytes } from 'node:crypto';
import {
  type MeasurementProps,
  type SigningKeyPair,
  decodeMeasurement,
  encodeMeasurement,
  generateSigningKeyPair,
  newId,
  probeIdFromPublicKey,
  sealBatch,
} from '@steppe/shared';
import type { IncomingBatch, IncomingMeasurement, ProbeNetwork } from '../../src/store/store.js';

/** A test probe: key pair and id. */
export interface TestProbe {
  readonly keys: SigningKeyPair;
  readonly probeId: string;
}

export function newProbe(): TestProbe {
  const keys = generateSigningKeyPair();
  return { keys, probeId: probeIdFromPublicKey(keys.publicKey) };
}

export const KAZAKHTELECOM: ProbeNetwork = { asn: 9198, cc: 'KZ', networkName: 'JSC Kazakhtelecom' };
export const BEELINE: ProbeNetwork = { asn: 21299, cc: 'KZ', networkName: 'Kar-Tel LLC' };

/** Certificate-sized random bytes shared across measurements (a stand-in DER chain). */
export const SHARED_INTERMEDIATE = randomBytes(1100);
export const BLOCKPAGE_PREFIX = Buffer.from(`<html><head><title>Access restricted</title></head><body>${'Доступ ограничен. '.repeat(20)}</body></html>`);

/** What a test measurement looks like. */
export interface MeasurementSpec {
  readonly probeId: string;
  readonly startMs: number;
  readonly domain?: string;
  readonly verdict?: string;
  readonly blockingType?: string;
  readonly anomaly?: boolean;
  readonly confirmed?: boolean;
  readonly failure?: string;
  readonly categoryCode?: string;
  /** 'web_connectivity' unless given ('connectivity': the probe's own check). */
  readonly testName?: string;
  readonly leafCert?: Uint8Array;
  readonly bodyPrefix?: Uint8Array;
  /** What the probe claims about its network (the store must ignore it). */
  readonly claimedAsn?: number;
}

/** Measurement props as a probe would encode them. */
export function measurementProps(spec: MeasurementSpec): MeasurementProps {
  const domain = spec.domain ?? 'www.facebook.com';
  const verdict = spec.verdict ?? 'accessible';
  const anomaly = spec.anomaly ?? (verdict !== 'accessible' && verdict !== 'down');
  return {
    id: newId(spec.startMs),
    probeId: spec.probeId,
    testName: spec.testName ?? 'web_connectivity',
    testVersion: '0.1.0',
    softwareName: 'steppe-probe',
    softwareVersion: '0.1.0',
    startTimeMs: spec.startMs,
    runtimeMs: 812.5,
    input: `https://${domain}/`,
    domain,
    categoryCode: spec.categoryCode ?? 'GRP',
    probeAsn: spec.claimedAsn ?? 0,
    observations: {
      dnsQueries: [{ resolver: '127.0.0.53:53', transport: 1, queryType: 'A', hostname: domain, responses: [{ rcode: 0, answers: [{ answerType: 'A', value: '127.1.0.10', ttl: 300 }], tMs: 3.5, idMatches: true }], t0Ms: 0.1, t1Ms: 3.6 }],
      tcpConnects: [{ ip: '127.1.0.10', port: 443, failure: '', t0Ms: 4, t1Ms: 4.4 }],
      tlsHandshakes: [{
        serverName: domain,
        ip: '127.1.0.10',
        port: 443,
        tlsVersion: 'TLSv1.3',
        peerCertificates: [spec.leafCert ?? randomBytes(900), SHARED_INTERMEDIATE],
        failure: spec.failure ?? '',
        t0Ms: 5,
        t1Ms: 6,
      }],
      httpRequests: [{ url: `https://${domain}/`, method: 'GET', statusCode: 200, bodyLength: 5000, bodyPrefix: spec.bodyPrefix ?? BLOCKPAGE_PREFIX, title: 'x', t0Ms: 7, t1Ms: 9 }],
    },
    analysis: {
      verdict,
      blockingType: spec.blockingType ?? (anomaly ? 'sni_reset' : ''),
      accessible: !anomaly,
      anomaly,
      confirmed: spec.confirmed ?? false,
      failure: spec.failure ?? '',
      engineVersion: 'test',
    },
  };
}

/** An encoded, decoded measurement ready for a batch. */
export function incomingMeasurement(spec: MeasurementSpec): IncomingMeasurement {
  const raw = encodeMeasurement(measurementProps(spec));
  const decoded = decodeMeasurement(raw);
  if (!decoded.ok) throw decoded.error;
  return { id: decoded.value.id, raw, decoded: decoded.value };
}

/** Every item of an async iterable (Array.fromAsync arrives with Node 22). */
export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A signed batch as ingest hands it to the store. */
export function signedBatch(probe: TestProbe, sequence: number, measurements: readonly IncomingMeasurement[], receivedMs: number, network: ProbeNetwork): IncomingBatch {
  const sealed = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence, createdMs: receivedMs, measurements: measurements.map((m) => m.raw) });
  return {
    probeId: probe.probeId,
    sequence,
    header: sealed.header ?? new Uint8Array(),
    signature: sealed.signature ?? new Uint8Array(),
    receivedMs,
    network,
    measurements,
  };
}
