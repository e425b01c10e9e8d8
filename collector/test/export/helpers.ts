import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type MeasurementProps,
  decodeMeasurement,
  encodeMeasurement,
  newId,
  sealBatch,
} from '@steppe/shared';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { ProbeNetwork, Store } from '../../src/store/store.js';
import { BEELINE, KAZAKHTELECOM, type TestProbe, newProbe } from '../store/fixtures.js';

export { BEELINE, KAZAKHTELECOM, type TestProbe, newProbe } from '../store/fixtures.js';

/** 6 December 2020, 10:02 Almaty time (UTC+6). */
export const SUMMIT_MS = Date.UTC(2020, 11, 6, 4, 2);

/** A temporary directory (for outputs) and a store, by default a SQLite file in it (an engine's `open` otherwise); `close()` removes both. */
export async function tempStore(open?: () => Promise<Store>): Promise<{ store: Store; dir: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-export-'));
  const store = open === undefined ? await openSqliteStore(join(dir, 'collector.db')) : await open();
  return {
    store,
    dir,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A measurement as a probe encodes it: SNI-reset TLS to the domain, or an accessible page. */
export function probeMeasurement(probeId: string, startMs: number, domain: string, blocked: boolean): MeasurementProps {
  const ip = '157.240.210.35';
  return {
    id: newId(startMs),
    probeId,
    testName: 'web_connectivity',
    testVersion: '0.1.0',
    softwareName: 'steppe-probe',
    softwareVersion: '0.1.0',
    startTimeMs: startMs,
    runtimeMs: 1234.5,
    input: `https://${domain}/`,
    domain,
    categoryCode: 'GRP',
    testList: 'kz',
    testListVersion: '2020-12-05',
    // A probe's claim about its network: the collector ignores it.
    probeAsn: 64512,
    probeCc: 'XX',
    observations: {
      dnsQueries: [{ resolver: '92.46.63.11:53', transport: 1, queryType: 'A', hostname: domain, responses: [{ rcode: 0, answers: [{ answerType: 'A', value: ip, ttl: 300 }], tMs: 21.5, idMatches: true }], t0Ms: 1, t1Ms: 21.6 }],
      tcpConnects: [{ ip, port: 443, failure: '', t0Ms: 22, t1Ms: 61.3 }],
      tlsHandshakes: [{ serverName: domain, ip, port: 443, failure: blocked ? 'connection_reset' : '', tlsVersion: blocked ? '' : 'TLSv1.3', peerCertificates: blocked ? [] : [new Uint8Array([0x30, 0x82, 0x01, 0x0a, 1, 2, 3])], t0Ms: 61.4, t1Ms: 102.9 }],
      httpRequests: blocked
        ? []
        : [{ url: `https://${domain}/`, method: 'GET', statusCode: 200, bodyLength: 52, bodyPrefix: Buffer.from('<html><head><title>Facebook, "log in"</title></head>'), title: 'Facebook, "log in"', responseHeaders: [{ name: 'content-type', value: 'text/html' }], t0Ms: 103, t1Ms: 240 }],
      networkEvents: [],
    },
    control: {
      dns: { addresses: [{ ip, asn: 32934, asOrg: 'Facebook, Inc.' }], failure: '' },
      tcp: [{ ip, port: 443, failure: '' }],
      tls: [{ serverName: domain, ip, port: 443, failure: '', validForDomain: true }],
      http: { statusCode: 200, bodyLength: 60, title: 'Facebook, "log in"', headerNames: ['content-type'], failure: '' },
      measuredAtMs: startMs + 50,
      helper: 'https://collector.example.org',
    },
    analysis: blocked
      ? { verdict: 'tls', blockingType: 'sni_reset', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake', evidence: ['tls_handshakes[0] failed with connection_reset'], engineVersion: '1.0.0' }
      : { verdict: 'accessible', accessible: true, evidence: ['matches control'], engineVersion: '1.0.0' },
    annotations: { platform: 'linux' },
  };
}

/** Register a probe and commit one signed batch of measurements as ingest would. */
export async function ingestSigned(store: Store, probe: TestProbe, sequence: number, measurements: readonly MeasurementProps[], network: ProbeNetwork, receivedMs: number): Promise<Uint8Array[]> {
  await store.registerProbe(probe.probeId, probe.keys.publicKey, receivedMs, network);
  const raws = measurements.map((m) => encodeMeasurement(m));
  const batch = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence, createdMs: receivedMs, measurements: raws });
  const [result] = await store.commitBatches([{
    probeId: probe.probeId,
    sequence,
    header: batch.header ?? new Uint8Array(),
    signature: batch.signature ?? new Uint8Array(),
    receivedMs,
    network,
    measurements: raws.map((raw) => {
      const decoded = decodeMeasurement(raw);
      if (!decoded.ok) throw decoded.error;
      return { id: decoded.value.id, raw, decoded: decoded.value };
    }),
  }]);
  return result?.stored ?? [];
}

/** A store holding 2 probes × `perProbe` measurements around the summit, alternating blocked/accessible. */
export async function seedSigned(store: Store, perProbe: number, receivedMs: number = SUMMIT_MS + 3_600_000): Promise<number> {
  const probes = [newProbe(), newProbe()];
  let n = 0;
  for (const [p, probe] of probes.entries()) {
    const ms: MeasurementProps[] = [];
    for (let i = 0; i < perProbe; i += 1) {
      ms.push(probeMeasurement(probe.probeId, SUMMIT_MS + i * 60_000 + p * 1000, i % 3 === 0 ? 'www.instagram.com' : 'www.facebook.com', i % 2 === 0));
    }
    n += (await ingestSigned(store, probe, 1, ms, p === 0 ? KAZAKHTELECOM : BEELINE, receivedMs)).length;
  }
  return n;
}
