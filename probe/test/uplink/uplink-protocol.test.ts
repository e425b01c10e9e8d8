import { afterAll, describe, expect, it } from 'vitest';
import { type DecodedFrame, type FrameProps, PROTOCOL_VERSION, decodeFrame, encodeFrame, openBatch, wire } from '@steppe/shared';
import type { Outbox } from '../../src/outbox/outbox.js';
import type { ProbeIdentity } from '../../src/identity/identity.js';
import { type EffectiveLimits, type SessionEnd, UplinkProtocol } from '../../src/uplink/uplink-protocol.js';
import { hex, probeWith, tempRoot } from './helpers.js';
import { ManualTimers } from './manual-timers.js';

// The probe's session protocol without a socket: frames are fed in, the
// frames it sends and the way it ends are recorded, time moves by hand.

const root = tempRoot('steppe-uplink-protocol-');
afterAll(() => root.remove());

const OWN_LIMITS: EffectiveLimits = {
  maxBatchMeasurements: 100,
  maxBatchBytes: 1024 * 1024,
  maxFrameBytes: 64 * 1024 * 1024,
  maxInFlight: 4,
  maxBatchesPerSecond: 1_000_000,
  maxBytesPerSecond: Number.MAX_SAFE_INTEGER,
};
const CONNECT_TIMEOUT_MS = 15_000;
const ACK_TIMEOUT_MS = 60_000;

interface Rig {
  readonly protocol: UplinkProtocol;
  readonly timers: ManualTimers;
  readonly outbox: Outbox;
  readonly identity: ProbeIdentity;
  readonly ids: string[];
  /** Frames the probe sent, decoded. */
  readonly sent: DecodedFrame[];
  readonly closes: { code: number; reason: string }[];
  readonly terminated: number;
  readonly end: SessionEnd | undefined;
  readonly events: string[];
  /** Feed one frame from the collector. */
  feed(frame: FrameProps): void;
  /** Batches sent so far, with their sequence and measurement ids. */
  batches(): { sequence: number; ids: string[] }[];
}

function rig(queued: number, options: { maxFrameBytes?: number } = {}): Rig {
  const { identity, outbox, ids } = probeWith(root.path, queued);
  const timers = new ManualTimers();
  const sent: DecodedFrame[] = [];
  const events: string[] = [];
  const seen = { closes: [] as { code: number; reason: string }[], terminated: 0, end: undefined as SessionEnd | undefined };
  const protocol = new UplinkProtocol({
    url: 'ws://collector.test/api/v1/ingest',
    identity,
    outbox,
    clock: timers.clock,
    timers,
    softwareVersion: 'steppe-probe/test',
    enrollmentToken: 'token-1',
    testListVersion: 'lists-7',
    limits: { ...OWN_LIMITS, ...(options.maxFrameBytes !== undefined ? { maxFrameBytes: options.maxFrameBytes } : {}) },
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    suspects: new Set(),
  }, {
    welcome: (w) => events.push(`welcome ${w.collectorId} in-flight ${w.limits.maxInFlight}`),
    acked: (a) => events.push(`acked ${a.sequence} ${a.stored}+${a.duplicates}`),
    refused: (e) => events.push(`refused ${e.code} ${e.closeCode}`),
    quarantined: (q) => events.push(`quarantined ${hex(q.id)}`),
    idle: () => events.push('idle'),
  }, {
    send: (bytes) => {
      const decoded = decodeFrame(bytes);
      if (!decoded.ok) throw decoded.error;
      sent.push(decoded.value);
    },
    close: (code, reason) => seen.closes.push({ code, reason }),
    terminate: () => {
      seen.terminated += 1;
    },
  }, (end) => {
    seen.end = end;
  });
  return {
    protocol, timers, outbox, identity, ids, sent, events,
    closes: seen.closes,
    get terminated() {
      return seen.terminated;
    },
    get end() {
      return seen.end;
    },
    feed: (frame) => protocol.received(encodeFrame(frame), true),
    batches: () => sent.filter((f) => f.body === 'batch').map((f) => {
      const opened = openBatch(f.batch ?? {}, identity.keys.publicKey, identity.probeId);
      if (!opened.ok) throw opened.error;
      return { sequence: Number(opened.value.header.sequence), ids: (f.batch?.measurements ?? []).map((m) => measurementId(m)) };
    }),
  };
}

function measurementId(bytes: Uint8Array): string {
  return hex(wire.Measurement.decode(bytes).id);
}

type WelcomeLimits = NonNullable<NonNullable<FrameProps['welcome']>['limits']>;

function welcome(limits: WelcomeLimits = {}): FrameProps {
  return { welcome: { serverTimeMs: 1, collectorId: 'c1', testListVersion: 'lists-8', limits } };
}

function ackFor(batch: { sequence: number; ids: string[] }, ids = batch.ids): FrameProps {
  return { ack: { sequence: batch.sequence, storedIds: ids.map((id) => Buffer.from(id, 'hex')) } };
}

describe('UplinkProtocol: hello and welcome', () => {
  it('says hello first, with its id, key, versions and enrollment token', () => {
    const r = rig(0);
    r.protocol.opened();
    expect(r.sent).toHaveLength(1);
    const hello = r.sent[0]?.hello;
    expect(hello).toMatchObject({ protocolVersion: PROTOCOL_VERSION, probeId: r.identity.probeId, softwareVersion: 'steppe-probe/test', enrollmentToken: 'token-1', testListVersion: 'lists-7' });
    expect(hex(hello?.publicKey ?? new Uint8Array())).toBe(hex(r.identity.keys.publicKey));
  });

  it('drops the connection when no welcome comes in time, and not a moment before', () => {
    const r = rig(1);
    r.protocol.opened();
    r.timers.advance(CONNECT_TIMEOUT_MS - 1);
    expect(r.end).toBeUndefined();
    r.timers.advance(1);
    expect(r.end).toMatchObject({ welcomed: false, code: 'STEPPE_ERR_TIMEOUT' });
    expect(r.terminated).toBe(1);
  });

  it('takes the lower of its own and the collector limits, then sends what is queued', () => {
    const r = rig(5);
    r.protocol.opened();
    r.feed(welcome({ maxBatchMeasurements: 2, maxInFlight: 2 }));
    expect(r.events[0]).toBe('welcome c1 in-flight 2');
    expect(r.protocol.welcomed).toBe(true);
    // Two batches of two: the in-flight limit holds the fifth back.
    expect(r.batches().map((b) => b.ids)).toEqual([r.ids.slice(0, 2), r.ids.slice(2, 4)]);
    expect(r.protocol.inFlightBatches).toBe(2);
    r.timers.advance(CONNECT_TIMEOUT_MS); // the hello timer was disarmed
    expect(r.end).toBeUndefined();
  });
});

describe('UplinkProtocol: acks', () => {
  it('deletes exactly the ids an ack names, then sends the next batch and goes idle when drained', () => {
    const r = rig(3);
    r.protocol.opened();
    r.feed(welcome({ maxBatchMeasurements: 2, maxInFlight: 1 }));
    const [first] = r.batches();
    if (first === undefined) throw new Error('no batch');
    // An ack naming one of the two (and a stranger) deletes that one only.
    r.feed(ackFor(first, [first.ids[0] ?? '', 'ff'.repeat(16)]));
    expect(r.outbox.stats().count).toBe(2);
    expect(r.events).toContain(`acked ${first.sequence} 2+0`);
    const second = r.batches()[1];
    expect(second?.ids).toEqual([first.ids[1], r.ids[2]]);
    if (second === undefined) throw new Error('no second batch');
    r.feed(ackFor(second));
    expect(r.outbox.stats().count).toBe(0);
    expect(r.events.at(-1)).toBe('idle');
  });

  it('ignores an ack for a batch it did not send', () => {
    const r = rig(1);
    r.protocol.opened();
    r.feed(welcome());
    r.feed({ ack: { sequence: 999_999, storedIds: [Buffer.from(r.ids[0] ?? '', 'hex')] } });
    expect(r.outbox.stats().count).toBe(1);
    expect(r.protocol.inFlightBatches).toBe(1);
  });

  it('presumes the connection dead when an ack does not come: drops it, and the rows stay queued', () => {
    const r = rig(2);
    r.protocol.opened();
    r.feed(welcome());
    r.timers.advance(ACK_TIMEOUT_MS);
    expect(r.end).toMatchObject({ welcomed: true, code: 'generic_timeout_error' });
    expect(r.terminated).toBe(1);
    expect(r.outbox.stats().count).toBe(2);
    expect(r.timers.pending).toBe(0);
  });
});

describe('UplinkProtocol: refusals', () => {
  it('narrows an invalid measurement down: the batch is retried one by one, the culprit set aside', () => {
    const r = rig(3);
    r.protocol.opened();
    r.feed(welcome({ maxInFlight: 1 }));
    const [whole] = r.batches();
    expect(whole?.ids).toHaveLength(3);
    r.feed({ error: { code: 'STEPPE_ERR_MEASUREMENT_INVALID', message: 'bad verdict', sequence: whole?.sequence ?? 0, closeCode: 0 } });
    expect(r.end).toBeUndefined();
    // Suspects go alone now.
    const alone = r.batches()[1];
    expect(alone?.ids).toEqual([r.ids[0]]);
    if (alone === undefined) throw new Error('no retry');
    r.feed(ackFor(alone));
    const culprit = r.batches()[2];
    expect(culprit?.ids).toEqual([r.ids[1]]);
    r.feed({ error: { code: 'STEPPE_ERR_MEASUREMENT_INVALID', message: 'bad verdict', sequence: culprit?.sequence ?? 0, closeCode: 0 } });
    expect(r.events).toContain(`quarantined ${r.ids[1]}`);
    expect(r.outbox.stats()).toMatchObject({ count: 2, quarantined: 1 });
    expect(r.batches()[3]?.ids).toEqual([r.ids[2]]);
  });

  it('ends with the code and close code of an error that closes the connection', () => {
    const r = rig(1);
    r.protocol.opened();
    r.feed(welcome());
    r.feed({ error: { code: 'STEPPE_ERR_RATE_LIMITED', message: 'slow down', sequence: r.batches()[0]?.sequence ?? 0, closeCode: 1013 } });
    expect(r.events).toContain('refused STEPPE_ERR_RATE_LIMITED 1013');
    expect(r.end).toEqual({ welcomed: true, code: 'STEPPE_ERR_RATE_LIMITED', message: 'slow down', closeCode: 1013 });
    expect(r.outbox.stats().count).toBe(1);
  });

  it('sets aside a measurement larger than the collector accepts in one frame', () => {
    const r = rig(2);
    r.protocol.opened();
    r.feed(welcome({ maxFrameBytes: 100 }));
    expect(r.events.filter((e) => e.startsWith('quarantined'))).toEqual(r.ids.map((id) => `quarantined ${id}`));
    expect(r.batches()).toEqual([]);
    expect(r.outbox.stats()).toMatchObject({ count: 2, quarantined: 2 });
  });
});

describe('UplinkProtocol: frames that break the rules, pings, pacing, closing', () => {
  it('drops the connection on bytes that are no frame, and on a text message', () => {
    for (const [data, binary] of [[new Uint8Array([0xff, 0xff, 0xff]), true], [Buffer.from('hello'), false]] as const) {
      const r = rig(0);
      r.protocol.opened();
      r.protocol.received(data, binary);
      expect(r.end?.code).toBe('STEPPE_ERR_FRAME_DECODE');
      expect(r.terminated).toBe(1);
    }
  });

  it('answers a ping with a pong carrying its nonce', () => {
    const r = rig(0);
    r.protocol.opened();
    r.feed({ ping: { nonce: 42, sentMs: 7 } });
    expect(r.sent.at(-1)?.pong).toMatchObject({ nonce: 42, sentMs: 7 });
  });

  it('paces batches under the collector rate, waiting on its timers', () => {
    const r = rig(3);
    r.protocol.opened();
    r.feed(welcome({ maxBatchMeasurements: 1, maxBatchesPerSecond: 1 }));
    // At 90% of 1 batch/s: one now, the next ~1.1 s later.
    expect(r.batches()).toHaveLength(1);
    r.timers.advance(1000);
    expect(r.batches()).toHaveLength(1);
    r.timers.advance(200);
    expect(r.batches()).toHaveLength(2);
  });

  it('closes politely once what is in flight is acked; closing by force does not wait', () => {
    const r = rig(1);
    r.protocol.opened();
    r.feed(welcome());
    r.protocol.close();
    expect(r.closes).toEqual([]);
    const [batch] = r.batches();
    if (batch === undefined) throw new Error('no batch');
    r.feed(ackFor(batch));
    expect(r.closes).toEqual([{ code: 1000, reason: 'bye' }]);
    expect(r.end).toMatchObject({ code: 'closed', closeCode: 1000 });

    const forced = rig(1);
    forced.protocol.opened();
    forced.feed(welcome());
    forced.protocol.close(true);
    expect(forced.closes).toEqual([{ code: 1000, reason: 'bye' }]);
    expect(forced.outbox.stats().count).toBe(1);
  });

  it('once ended, ignores what still arrives and sends nothing', () => {
    const r = rig(2);
    r.protocol.opened();
    r.protocol.ended('connection_reset', 'reset by peer', undefined);
    const before = r.sent.length;
    r.feed(welcome());
    r.feed({ ping: { nonce: 1, sentMs: 1 } });
    r.protocol.notify();
    expect(r.sent).toHaveLength(before);
    expect(r.end).toMatchObject({ welcomed: false, code: 'connection_reset' });
  });
});
