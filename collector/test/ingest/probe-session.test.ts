import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type DecodedFrame, ManualClock, decodeFrame, encodeFrame } from '@steppe/shared';
import { UNKNOWN_NETWORK } from '../../src/geo/network-info.js';
import { GroupCommitter, IngestMetrics, ProbeSession, resolveIngestLimits } from '../../src/ingest/index.js';
import { ProbeRates } from '../../src/ingest/probe-rates.js';
import { TouchThrottle } from '../../src/ingest/touch-throttle.js';
import { batchFrame, helloFrame, newProbe } from './fixtures.js';
import { MemoryIngestStore } from './memory-store.js';

// The session against a store that answers later (the store is asynchronous:
// a writer thread, a database server), fed bytes directly.

function session(store: MemoryIngestStore): { s: ProbeSession; frames: DecodedFrame[] } {
  const clock = new ManualClock(Date.now());
  const limits = resolveIngestLimits();
  const metrics = new IngestMetrics(new Registry());
  const frames: DecodedFrame[] = [];
  const s = new ProbeSession({
    store,
    committer: new GroupCommitter(store, metrics),
    tokens: undefined,
    limits,
    metrics,
    clock,
    rates: new ProbeRates(limits, clock),
    touches: new TouchThrottle(),
    handshakeTimeoutMs: 10_000,
    onEvent: () => undefined,
    welcome: () => ({ serverTimeMs: clock.now(), limits }),
  }, {
    send: (bytes) => {
      const d = decodeFrame(bytes);
      if (d.ok) frames.push(d.value);
    },
    close: () => undefined,
  }, UNKNOWN_NETWORK);
  return { s, frames };
}

/** Let every pending promise and immediate run (the store's answers are held by a gate, not by time). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

describe('ProbeSession with an asynchronous store', () => {
  it('holds frames that arrive before the Welcome and handles them, in order, after it', async () => {
    const store = new MemoryIngestStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => { open = resolve; });
    const { s, frames } = session(store);
    const probe = newProbe();
    s.onMessage(encodeFrame(helloFrame(probe)), true);
    s.onMessage(batchFrame(probe, 1, 2).frame, true);
    s.onMessage(encodeFrame({ ping: { nonce: 9, sentMs: 1 } }), true);
    await settle();
    expect(frames).toEqual([]);
    open();
    await settle();
    expect(frames.map((f) => f.body)).toEqual(['welcome', 'pong', 'ack']);
    expect(store.rows.size).toBe(2);
    s.onClose();
  });

  it('sends the Ack only once the commit resolved', async () => {
    const store = new MemoryIngestStore();
    const { s, frames } = session(store);
    const probe = newProbe();
    s.onMessage(encodeFrame(helloFrame(probe)), true);
    await settle();
    expect(frames.map((f) => f.body)).toEqual(['welcome']);
    let open!: () => void;
    store.gate = new Promise((resolve) => { open = resolve; });
    s.onMessage(batchFrame(probe, 1, 3).frame, true);
    await settle();
    expect(frames.map((f) => f.body)).toEqual(['welcome']);
    expect(s.inFlight).toBe(1);
    open();
    await settle();
    expect(frames.map((f) => f.body)).toEqual(['welcome', 'ack']);
    expect(frames[1]?.ack?.storedIds).toHaveLength(3);
    s.onClose();
  });

  it('a connection closed while the store answers the hello gets nothing more', async () => {
    const store = new MemoryIngestStore();
    let open!: () => void;
    store.gate = new Promise((resolve) => { open = resolve; });
    const { s, frames } = session(store);
    s.onMessage(encodeFrame(helloFrame(newProbe())), true);
    s.onClose();
    open();
    await settle();
    expect(frames).toEqual([]);
    expect(s.probeId).toBeUndefined();
  });
});
