import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { type MeasurementProps, PROTOCOL_VERSION, encodeFrame, encodeMeasurement, newId, sealBatch, type FrameProps } from '@steppe/shared';
import { attachIngest, type IngestHandle, type IngestOptions } from '../../src/ingest/index.js';
import { MemoryIngestStore } from './memory-store.js';

export interface Harness {
  readonly url: string;
  readonly server: Server;
  readonly ingest: IngestHandle;
  readonly store: MemoryIngestStore;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** A real http.Server on 127.0.0.1:0 with ingest attached to a memory store. */
export async function startHarness(options: Partial<IngestOptions> = {}): Promise<Harness> {
  const store = new MemoryIngestStore();
  const registry = new Registry();
  const server = createServer((_req, res) => res.writeHead(404).end());
  const ingest = attachIngest(server, { store, registry, ...options });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}`,
    server,
    ingest,
    store,
    registry,
    close: async () => {
      await ingest.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import type { TestProbe } from '../store/fixtures.js';

export { type TestProbe, newProbe } from '../store/fixtures.js';

export function helloFrame(p: TestProbe, extra: Partial<NonNullable<FrameProps['hello']>> = {}): FrameProps {
  return { hello: { protocolVersion: PROTOCOL_VERSION, probeId: p.probeId, publicKey: p.keys.publicKey, softwareVersion: 'test/1', ...extra } };
}

export function measurement(probeId: string, startMs = Date.now() - 1_000, extra: Partial<MeasurementProps> = {}): MeasurementProps {
  return {
    id: newId(startMs), probeId, testName: 'web_connectivity', testVersion: '0.1.0', softwareName: 'steppe-probe', softwareVersion: '0.1.0',
    startTimeMs: startMs, runtimeMs: 120, input: 'https://www.facebook.com/', domain: 'www.facebook.com', categoryCode: 'GRP',
    analysis: { verdict: 'tcp_ip', blockingType: 'tcp_reset', accessible: false, anomaly: true, failure: 'connection_reset', failedStep: 'tcp_connect' },
    ...extra,
  };
}

/** A signed batch frame of `count` measurements (or the given ones). */
export function batchFrame(p: TestProbe, sequence: number, measurements: MeasurementProps[] | number, signer: TestProbe = p): { frame: Uint8Array; ids: Uint8Array[] } {
  const list = typeof measurements === 'number' ? Array.from({ length: measurements }, (_, i) => measurement(p.probeId, Date.now() - 10_000 + i)) : measurements;
  const encoded = list.map((m) => encodeMeasurement(m));
  const sealed = sealBatch({ keys: signer.keys, probeId: signer.probeId, sequence, createdMs: Date.now(), measurements: encoded });
  return { frame: encodeFrame({ batch: sealed }), ids: list.map((m) => m.id as Uint8Array) };
}

/** Value of a labelled counter on the registry. */
export async function counter(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const data = await metric.get();
  return data.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((n, v) => n + v.value, 0);
}
