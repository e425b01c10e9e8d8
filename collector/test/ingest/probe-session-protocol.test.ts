import { afterEach, describe, expect, it, vi } from 'vitest';
import { Registry } from 'prom-client';
import { type DecodedFrame, type FrameProps, ManualClock, decodeFrame, encodeFrame } from '@steppe/shared';
import { TokenSet } from '../../src/ingest/enrollment.js';
import { GroupCommitter } from '../../src/ingest/group-committer.js';
import { type IngestLimits, resolveIngestLimits } from '../../src/ingest/limits.js';
import { IngestMetrics } from '../../src/ingest/metrics.js';
import { ProbeRates } from '../../src/ingest/probe-rates.js';
import { type IngestEvent, ProbeSession, type SessionContext } from '../../src/ingest/probe-session.js';
import { TouchThrottle } from '../../src/ingest/touch-throttle.js';
import { KAZAKHTELECOM } from '../store/fixtures.js';
import { type TestProbe, batchFrame, helloFrame, measurement, newProbe } from './fixtures.js';
import { MemoryIngestStore } from './memory-store.js';

// The collector's side of a session without a socket (dd-002): frames are
// fed to ProbeSession and what it sends back is recorded. The store is the
// ingest tests' in-memory one; the test only reads its fields and waits for
// the event loop to settle before looking, so it holds whether the store
// answers at once or with Promises.

interface Rig {
  readonly session: ProbeSession;
  readonly store: MemoryIngestStore;
  readonly clock: ManualClock;
  readonly events: IngestEvent[];
  /** Frames the collector sent, decoded. */
  readonly sent: DecodedFrame[];
  readonly closes: { code: number; reason: string }[];
  /** Feed one frame (or raw bytes) from the probe, then let commits and lookups settle. */
  feed(frame: FrameProps | Uint8Array, isBinary?: boolean): Promise<void>;
  /** The last frame sent. */
  last(): DecodedFrame | undefined;
}

interface RigOptions {
  readonly limits?: Partial<IngestLimits>;
  readonly tokens?: readonly string[];
  readonly store?: MemoryIngestStore;
  readonly rates?: ProbeRates;
  readonly clock?: ManualClock;
}

/** Let the store's answers and the group commit (next turn of the event loop) go through. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

function rig(options: RigOptions = {}): Rig {
  const store = options.store ?? new MemoryIngestStore();
  const clock = options.clock ?? new ManualClock(Date.now());
  const limits = resolveIngestLimits(options.limits);
  const metrics = new IngestMetrics(new Registry());
  const events: IngestEvent[] = [];
  const sent: DecodedFrame[] = [];
  const closes: { code: number; reason: string }[] = [];
  const ctx: SessionContext = {
    store,
    committer: new GroupCommitter(store, metrics),
    tokens: options.tokens !== undefined ? new TokenSet(options.tokens) : undefined,
    limits,
    metrics,
    clock,
    rates: options.rates ?? new ProbeRates(limits, clock),
    welcome: () => ({ serverTimeMs: clock.now(), limits, testListVersion: 'lists-1', collectorId: 'collector-test', lastAckedSequence: 0 }),
    handshakeTimeoutMs: 10_000,
    onEvent: (e) => events.push(e),
    touches: new TouchThrottle(),
  };
  const session = new ProbeSession(ctx, {
    send: (bytes) => {
      const decoded = decodeFrame(bytes);
      if (!decoded.ok) throw decoded.error;
      sent.push(decoded.value);
    },
    close: (code, reason) => closes.push({ code, reason }),
  }, KAZAKHTELECOM);
  return {
    session, store, clock, events, sent, closes,
    feed: async (frame, isBinary = true) => {
      session.onMessage(frame instanceof Uint8Array ? frame : encodeFrame(frame), isBinary);
      await settle();
    },
    last: () => sent.at(-1),
  };
}

/** A rig whose probe has said hello and been welcomed. */
async function welcomed(options: RigOptions = {}): Promise<Rig & { probe: TestProbe }> {
  const r = rig(options);
  const probe = newProbe();
  await r.feed(helloFrame(probe));
  expect(r.last()?.body).toBe('welcome');
  return { ...r, probe };
}

const hexOf = (ids: readonly Uint8Array[] | null | undefined): string[] => (ids ?? []).map((id) => Buffer.from(id).toString('hex'));

afterEach(() => {
  vi.useRealTimers();
});

describe('ProbeSession: hello', () => {
  it('registers a new probe on its first hello and welcomes it with the limits', async () => {
    const r = rig({ limits: { maxInFlight: 3 } });
    const probe = newProbe();
    await r.feed(helloFrame(probe));
    expect(r.last()?.welcome).toMatchObject({ collectorId: 'collector-test', testListVersion: 'lists-1', limits: { maxInFlight: 3 } });
    expect(r.session.probeId).toBe(probe.probeId);
    expect(r.store.keys.has(probe.probeId)).toBe(true);
    expect(r.events).toEqual([{ type: 'hello', probeId: probe.probeId, registered: true, asn: 9198, cc: 'KZ' }]);
  });

  it('welcomes a known probe without registering it again, and records that it was seen', async () => {
    const store = new MemoryIngestStore();
    const first = await welcomed({ store });
    const again = rig({ store });
    await again.feed(helloFrame(first.probe));
    expect(again.last()?.body).toBe('welcome');
    expect(again.events[0]).toMatchObject({ type: 'hello', registered: false });
    expect(store.touched).toContain(first.probe.probeId);
  });

  it('refuses a key other than the registered one (1008)', async () => {
    const store = new MemoryIngestStore();
    const probe = newProbe();
    store.keys.set(probe.probeId, newProbe().keys.publicKey);
    const r = rig({ store });
    await r.feed(helloFrame(probe));
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_KEY_CONFLICT', closeCode: 1008 });
    expect(r.closes).toEqual([{ code: 1008, reason: 'STEPPE_ERR_KEY_CONFLICT' }]);
  });

  it('with token enrollment, refuses a new probe without a valid token and welcomes one with it', async () => {
    for (const token of ['', 'wrong-token-000000']) {
      const r = rig({ tokens: ['enrol-me-0123456789'] });
      await r.feed(helloFrame(newProbe(), { enrollmentToken: token }));
      expect(r.last()?.error?.code).toBe('STEPPE_ERR_ENROLLMENT_REQUIRED');
      expect(r.store.keys.size).toBe(0);
    }
    const ok = rig({ tokens: ['enrol-me-0123456789'] });
    await ok.feed(helloFrame(newProbe(), { enrollmentToken: 'enrol-me-0123456789' }));
    expect(ok.last()?.body).toBe('welcome');
  });

  it('answers STEPPE_ERR_STORAGE when the key cannot be read or registered', async () => {
    const store = new MemoryIngestStore();
    store.probeKey = () => {
      throw new Error('disk on fire');
    };
    const r = rig({ store });
    await r.feed(helloFrame(newProbe()));
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_STORAGE', closeCode: 1013 });
    expect(r.events.some((e) => e.type === 'storage_error' && e.message === 'disk on fire')).toBe(true);
  });

  it('gives up on a probe that never says hello, with the clock moved by hand', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const r = rig();
    vi.advanceTimersByTime(9_999);
    expect(r.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_TIMEOUT', closeCode: 1008 });
    // A hello in time disarms it.
    const on = rig();
    await on.feed(helloFrame(newProbe()));
    vi.advanceTimersByTime(60_000);
    expect(on.sent.map((f) => f.body)).toEqual(['welcome']);
  });
});

describe('ProbeSession: frame order and shape', () => {
  it.each([
    ['a text message', Buffer.from('{"hello":{}}'), false, 'STEPPE_ERR_FRAME_DECODE'],
    ['bytes that are no frame', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff]), true, 'STEPPE_ERR_FRAME_DECODE'],
    ['a frame with no message', new Uint8Array(0), true, 'STEPPE_ERR_FRAME_INVALID'],
  ] as const)('refuses %s before anything else (1008)', async (_what, bytes, isBinary, code) => {
    const r = rig();
    await r.feed(bytes, isBinary);
    expect(r.last()?.error).toMatchObject({ code, closeCode: 1008 });
    expect(r.closes).toHaveLength(1);
  });

  it('refuses a frame over the size limit with 1009, before decoding it', async () => {
    const r = rig({ limits: { maxFrameBytes: 1024 } });
    await r.feed(new Uint8Array(1025), true);
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_TOO_LARGE', closeCode: 1009 });
  });

  it('refuses a batch before the hello, a second hello, and frames only a collector sends', async () => {
    const probe = newProbe();
    const early = rig();
    await early.feed(batchFrame(probe, 1, 1).frame);
    expect(early.last()?.error?.code).toBe('STEPPE_ERR_PROTOCOL');
    expect(early.store.rows.size).toBe(0);

    const twice = await welcomed();
    await twice.feed(helloFrame(twice.probe));
    expect(twice.last()?.error).toMatchObject({ code: 'STEPPE_ERR_PROTOCOL', message: 'a second hello on one connection' });

    const backwards = await welcomed();
    await backwards.feed({ ack: { sequence: 1 } });
    expect(backwards.last()?.error).toMatchObject({ code: 'STEPPE_ERR_PROTOCOL', message: 'a probe does not send ack frames' });
  });

  it('answers a ping with a pong carrying its nonce, before and after the hello', async () => {
    const r = rig();
    await r.feed({ ping: { nonce: 7, sentMs: 1 } });
    expect(r.last()?.pong).toMatchObject({ nonce: 7, sentMs: 1 });
    expect(r.closes).toEqual([]);
  });
});

describe('ProbeSession: batches', () => {
  it('acks a batch only after its commit, naming every id; a resend is acked as duplicates', async () => {
    const r = await welcomed();
    const { frame, ids } = batchFrame(r.probe, 1, 3);
    r.session.onMessage(frame, true);
    // Not committed yet: no ack may go.
    expect(r.last()?.body).toBe('welcome');
    expect(r.session.inFlight).toBe(1);
    await settle();
    expect(r.last()?.ack).toMatchObject({ sequence: 1 });
    expect(hexOf(r.last()?.ack?.storedIds)).toEqual(hexOf(ids));
    expect(r.store.rows.size).toBe(3);
    expect([...r.store.rows.values()].every((row) => row.network.asn === 9198)).toBe(true);
    expect(r.session.inFlight).toBe(0);

    await r.feed(frame);
    expect(hexOf(r.last()?.ack?.duplicateIds)).toEqual(hexOf(ids));
    expect(r.store.rows.size).toBe(3);
  });

  it('refuses a batch signed by another key whole (1008), storing nothing', async () => {
    const r = await welcomed();
    await r.feed(batchFrame(r.probe, 1, 2, newProbe()).frame);
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_BAD_SIGNATURE', closeCode: 1008 });
    expect(r.store.rows.size).toBe(0);
  });

  it('rejects a batch with an invalid measurement but keeps the connection for the next one', async () => {
    const r = await welcomed();
    const bad = measurement(r.probe.probeId, Date.now() - 500, { analysis: { verdict: 'not-a-verdict' } });
    await r.feed(batchFrame(r.probe, 1, [measurement(r.probe.probeId), bad]).frame);
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_MEASUREMENT_INVALID', closeCode: 0, sequence: 1 });
    expect(r.closes).toEqual([]);
    expect(r.store.rows.size).toBe(0);
    await r.feed(batchFrame(r.probe, 2, 1).frame);
    expect(r.last()?.body).toBe('ack');
  });

  it('refuses a batch beyond the in-flight limit (1013) while the first waits for its commit', async () => {
    const r = await welcomed({ limits: { maxInFlight: 1 } });
    r.session.onMessage(batchFrame(r.probe, 1, 1).frame, true);
    r.session.onMessage(batchFrame(r.probe, 2, 1).frame, true);
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_RATE_LIMITED', closeCode: 1013 });
    await settle();
    // The connection is closing: the first batch's ack is not sent on it, and it is stored.
    expect(r.sent.some((f) => f.body === 'ack')).toBe(false);
    expect(r.store.rows.size).toBe(1);
  });

  it('holds every connection of one probe to one batch rate', async () => {
    const store = new MemoryIngestStore();
    const clock = new ManualClock(Date.now());
    const limits = resolveIngestLimits({ maxBatchesPerSecond: 2 });
    const rates = new ProbeRates(limits, clock);
    const probe = newProbe();
    const a = rig({ store, clock, rates, limits: { maxBatchesPerSecond: 2 } });
    const b = rig({ store, clock, rates, limits: { maxBatchesPerSecond: 2 } });
    await a.feed(helloFrame(probe));
    await b.feed(helloFrame(probe));
    await a.feed(batchFrame(probe, 1, 1).frame);
    await b.feed(batchFrame(probe, 2, 1).frame);
    await a.feed(batchFrame(probe, 3, 1).frame);
    expect(a.last()?.error).toMatchObject({ code: 'STEPPE_ERR_RATE_LIMITED', closeCode: 1013 });
    expect(store.rows.size).toBe(2);
    // A second later the bucket holds tokens again.
    clock.advance(1_000);
    await b.feed(batchFrame(probe, 4, 1).frame);
    expect(b.last()?.body).toBe('ack');
  });

  it('answers a failed commit with STEPPE_ERR_STORAGE (1013), never an ack', async () => {
    const r = await welcomed();
    r.store.failNext = 1;
    await r.feed(batchFrame(r.probe, 1, 2).frame);
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_STORAGE', closeCode: 1013, sequence: 1 });
    expect(r.sent.some((f) => f.body === 'ack')).toBe(false);
    expect(r.store.rows.size).toBe(0);
  });
});

describe('ProbeSession: the end', () => {
  it('says it is shutting down (1001), then ignores whatever still arrives', async () => {
    const r = await welcomed();
    r.session.shutdown();
    expect(r.last()?.error).toMatchObject({ code: 'STEPPE_ERR_SHUTTING_DOWN', closeCode: 1001 });
    const count = r.sent.length;
    await r.feed(batchFrame(r.probe, 1, 1).frame);
    await r.feed({ ping: { nonce: 1, sentMs: 1 } });
    expect(r.sent).toHaveLength(count);
    expect(r.store.rows.size).toBe(0);
  });

  it('after the socket closed, sends nothing more', async () => {
    const r = await welcomed();
    r.session.onClose();
    await r.feed({ ping: { nonce: 2, sentMs: 2 } });
    expect(r.sent.map((f) => f.body)).toEqual(['welcome']);
  });
});
