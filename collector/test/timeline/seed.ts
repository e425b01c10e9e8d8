import type { ProbeNetwork, Store } from '../../src/store/store.js';
import { type MeasurementSpec, type TestProbe, incomingMeasurement, newProbe, signedBatch } from '../store/fixtures.js';

/** A probe registered in a store, with its network and a batch counter. */
export interface SeededProbe extends TestProbe {
  readonly network: ProbeNetwork;
  sequence: number;
}

export async function addProbe(store: Store, network: ProbeNetwork, nowMs: number): Promise<SeededProbe> {
  const probe = newProbe();
  await store.registerProbe(probe.probeId, probe.keys.publicKey, nowMs, network);
  return { ...probe, network, sequence: 0 };
}

/**
 * Commit measurements of one probe as a connected probe sends them: one
 * batch per 5 minutes of start times, received 30 s after its last one
 * started. With `deliveredAtMs`, one batch received then instead (an outbox
 * that held them while the probe was offline).
 */
export async function ingest(store: Store, probe: SeededProbe, specs: readonly Omit<MeasurementSpec, 'probeId'>[], deliveredAtMs?: number): Promise<Uint8Array[]> {
  const groups = new Map<number, Omit<MeasurementSpec, 'probeId'>[]>();
  for (const s of specs) {
    const key = deliveredAtMs ?? Math.floor(s.startMs / 300_000);
    const list = groups.get(key);
    if (list === undefined) groups.set(key, [s]);
    else list.push(s);
  }
  const stored: Uint8Array[] = [];
  for (const group of groups.values()) {
    const ms = group.map((s) => incomingMeasurement({ ...s, probeId: probe.probeId }));
    const receivedMs = deliveredAtMs ?? Math.max(...group.map((s) => s.startMs)) + 30_000;
    probe.sequence += 1;
    const [result] = await store.commitBatches([signedBatch(probe, probe.sequence, ms, receivedMs, probe.network)]);
    stored.push(...(result?.stored ?? []));
  }
  return stored;
}

export const MIN = 60_000;
export const HOUR = 3_600_000;

/** Start times every `stepMs` from `from` (inclusive) to `to` (exclusive), shifted by `offsetMs`. */
export function every(stepMs: number, from: number, to: number, offsetMs = 0): number[] {
  const out: number[] = [];
  for (let t = from + offsetMs; t < to; t += stepMs) out.push(t);
  return out;
}
