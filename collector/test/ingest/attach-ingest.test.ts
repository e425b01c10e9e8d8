import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeMeasurement, sealBatch } from '@steppe/shared';
import { type Harness, batchFrame, counter, helloFrame, measurement, newProbe, startHarness } from './fixtures.js';
import { TestClient } from './ws-client.js';

let h: Harness | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await h?.close();
  h = undefined;
});

async function connect(harness: Harness): Promise<TestClient> {
  const c = new TestClient(harness.url);
  clients.push(c);
  await c.opened;
  return c;
}

async function hello(harness: Harness, probe = newProbe(), extra = {}): Promise<{ c: TestClient; probe: ReturnType<typeof newProbe> }> {
  const c = await connect(harness);
  c.send(helloFrame(probe, extra));
  const w = await c.next(1);
  expect(w?.body).toBe('welcome');
  return { c, probe };
}

describe('attachIngest: the session', () => {
  it('welcomes a probe with the limits, stores a batch and acks after the commit', async () => {
    h = await startHarness({ limits: { maxBatchMeasurements: 50 }, testListVersion: () => '2020-12-05', collectorId: 'c1' });
    const { c, probe } = await hello(h);
    const welcome = c.frames[0]?.welcome;
    expect(welcome?.limits?.maxBatchMeasurements).toBe(50);
    expect(welcome?.testListVersion).toBe('2020-12-05');
    const { frame, ids } = batchFrame(probe, 7, 3);
    c.send(frame);
    const ack = await c.next(2);
    expect(ack?.body).toBe('ack');
    expect(ack?.ack?.sequence).toBe(7);
    expect(ack?.ack?.storedIds?.map((i) => Buffer.from(i).toString('hex'))).toEqual(ids.map((i) => Buffer.from(i).toString('hex')));
    expect(h.store.rows.size).toBe(3);
    expect(await counter(h.registry, 'steppe_ingest_measurements_total', { result: 'stored' })).toBe(3);
  });

  it('acknowledges a replayed batch as duplicates, stores nothing twice, and counts it', async () => {
    h = await startHarness();
    const { c, probe } = await hello(h);
    const { frame } = batchFrame(probe, 1, 4);
    c.send(frame);
    await c.next(2);
    const again = await hello(h, probe);
    again.c.send(frame);
    const ack = await again.c.next(2);
    expect(ack?.ack?.storedIds?.length ?? 0).toBe(0);
    expect(ack?.ack?.duplicateIds?.length).toBe(4);
    expect(h.store.rows.size).toBe(4);
    expect(await counter(h.registry, 'steppe_ingest_measurements_total', { result: 'duplicate' })).toBe(4);
  });

  it('rejects a forged signature whole, closes 1008, stores nothing and counts it', async () => {
    h = await startHarness();
    const { c, probe } = await hello(h);
    const sealed = sealBatch({ keys: probe.keys, probeId: probe.probeId, sequence: 1, createdMs: Date.now(), measurements: [encodeMeasurement(measurement(probe.probeId))] });
    const sig = new Uint8Array(sealed.signature ?? new Uint8Array());
    sig[5] = (sig[5] ?? 0) ^ 0x40;
    c.send(encodeFrame({ batch: { ...sealed, signature: sig } }));
    const err = await c.next(2);
    expect(err?.error?.code).toBe('STEPPE_ERR_BAD_SIGNATURE');
    expect(err?.error?.closeCode).toBe(1008);
    expect(await c.closed).toBe(1008);
    expect(h.store.rows.size).toBe(0);
    expect(await counter(h.registry, 'steppe_ingest_errors_total', { code: 'STEPPE_ERR_BAD_SIGNATURE' })).toBe(1);
    expect(await counter(h.registry, 'steppe_ingest_batches_total', { result: 'rejected' })).toBe(1);
  });

  it("rejects a batch signed with another probe's key, and one whose measurements name another probe", async () => {
    h = await startHarness();
    const other = newProbe();
    const a = await hello(h);
    a.c.send(batchFrame(a.probe, 1, 2, other).frame);
    expect((await a.c.next(2))?.error?.code).toBe('STEPPE_ERR_BAD_SIGNATURE');
    const b = await hello(h);
    b.c.send(batchFrame(b.probe, 1, [measurement(other.probeId)]).frame);
    expect((await b.c.next(2))?.error?.code).toBe('STEPPE_ERR_PROBE_MISMATCH');
    expect(h.store.rows.size).toBe(0);
    expect(await counter(h.registry, 'steppe_ingest_batches_total', { result: 'rejected' })).toBe(2);
  });

  it('token enrollment: refuses an unenrolled key without or with a wrong token, accepts a valid one once', async () => {
    const token = 'tok-0123456789abcdef';
    h = await startHarness({ enrollment: { mode: 'token', tokens: [token] } });
    const probe = newProbe();
    for (const extra of [{}, { enrollmentToken: 'wrong-token-0123456789' }]) {
      const c = await connect(h);
      c.send(helloFrame(probe, extra));
      const err = await c.next(1);
      expect(err?.error?.code).toBe('STEPPE_ERR_ENROLLMENT_REQUIRED');
      expect(await c.closed).toBe(1008);
    }
    expect(h.store.keys.size).toBe(0);
    await hello(h, probe, { enrollmentToken: token });
    expect(h.store.keys.size).toBe(1);
    // Enrolled: later hellos need no token.
    await hello(h, probe);
    expect(await counter(h.registry, 'steppe_ingest_errors_total', { code: 'STEPPE_ERR_ENROLLMENT_REQUIRED' })).toBe(2);
  });

  it('refuses a key that conflicts with the registered one', async () => {
    h = await startHarness();
    const probe = newProbe();
    h.store.keys.set(probe.probeId, newProbe().keys.publicKey);
    const c = await connect(h);
    c.send(helloFrame(probe));
    expect((await c.next(1))?.error?.code).toBe('STEPPE_ERR_KEY_CONFLICT');
  });

  it('wrong frame order: a batch before the hello, a second hello, a collector-only frame', async () => {
    h = await startHarness();
    const probe = newProbe();
    const c1 = await connect(h);
    c1.send(batchFrame(probe, 1, 1).frame);
    expect((await c1.next(1))?.error?.code).toBe('STEPPE_ERR_PROTOCOL');
    const { c: c2 } = await hello(h, probe);
    c2.send(helloFrame(probe));
    expect((await c2.next(2))?.error?.code).toBe('STEPPE_ERR_PROTOCOL');
    const { c: c3 } = await hello(h);
    c3.send({ ack: { sequence: 1 } });
    expect((await c3.next(2))?.error?.code).toBe('STEPPE_ERR_PROTOCOL');
  });

  it('malformed, truncated, empty and text frames get coded errors', async () => {
    h = await startHarness();
    const { frame } = batchFrame(newProbe(), 1, 1);
    const cases: Array<[Uint8Array | string, string]> = [
      [new Uint8Array([0xff, 0xff, 0xff]), 'STEPPE_ERR_FRAME_DECODE'],
      [frame.subarray(0, frame.length - 7), 'STEPPE_ERR_FRAME_DECODE'],
      [new Uint8Array(), 'STEPPE_ERR_FRAME_INVALID'],
      ['hello', 'STEPPE_ERR_FRAME_DECODE'],
    ];
    for (const [bytes, code] of cases) {
      const c = await connect(h);
      c.ws.send(bytes);
      expect((await c.next(1))?.error?.code).toBe(code);
      expect(await c.closed).toBe(1008);
    }
  });

  it('oversize frames and batches: STEPPE_ERR_TOO_LARGE and close 1009', async () => {
    h = await startHarness({ limits: { maxFrameBytes: 4096, maxBatchMeasurements: 2 } });
    const { c } = await hello(h);
    c.send(new Uint8Array(5000));
    expect((await c.next(2))?.error?.code).toBe('STEPPE_ERR_TOO_LARGE');
    expect(await c.closed).toBe(1009);
    const b = await hello(h);
    b.c.send(batchFrame(b.probe, 1, 3).frame);
    expect((await b.c.next(2))?.error?.code).toBe('STEPPE_ERR_TOO_LARGE');
    // Beyond ws's hard cap (2× the limit) ws itself closes with 1009.
    const d = await hello(h);
    d.c.send(new Uint8Array(9000));
    expect(await d.c.closed).toBe(1009);
  });

  it('rate limits: too many batches per second closes with 1013', async () => {
    h = await startHarness({ limits: { maxBatchesPerSecond: 2 } });
    const { c, probe } = await hello(h);
    for (let i = 1; i <= 4; i += 1) c.send(batchFrame(probe, i, 1).frame);
    await c.closed;
    expect(c.frames.some((f) => f.error?.code === 'STEPPE_ERR_RATE_LIMITED' && f.error.closeCode === 1013)).toBe(true);
    expect(c.closeCode).toBe(1013);
    expect(h.store.rows.size).toBe(2);
  });

  it('a hello that never comes: STEPPE_ERR_TIMEOUT', async () => {
    h = await startHarness({ handshakeTimeoutMs: 100 });
    const c = await connect(h);
    expect((await c.next(1))?.error?.code).toBe('STEPPE_ERR_TIMEOUT');
  });

  it('an invalid measurement rejects its batch whole but keeps the connection', async () => {
    h = await startHarness();
    const { c, probe } = await hello(h);
    const bad = measurement(probe.probeId, Date.now() - 500, { analysis: { verdict: 'not-a-verdict' } });
    c.send(batchFrame(probe, 1, [measurement(probe.probeId), bad]).frame);
    const err = await c.next(2);
    expect(err?.error?.code).toBe('STEPPE_ERR_MEASUREMENT_INVALID');
    expect(err?.error?.closeCode).toBe(0);
    expect(err?.error?.sequence).toBe(1);
    expect(h.store.rows.size).toBe(0);
    c.send(batchFrame(probe, 2, 1).frame);
    expect((await c.next(3))?.body).toBe('ack');
  });

  it('a storage failure is an error, never an ack; the resend is stored', async () => {
    h = await startHarness();
    const { c, probe } = await hello(h);
    h.store.failNext = 1;
    const { frame } = batchFrame(probe, 1, 2);
    c.send(frame);
    const err = await c.next(2);
    expect(err?.error?.code).toBe('STEPPE_ERR_STORAGE');
    expect(await c.closed).toBe(1013);
    const again = await hello(h, probe);
    again.c.send(frame);
    expect((await again.c.next(2))?.ack?.storedIds?.length).toBe(2);
  });

  it('answers application pings, and refuses other paths', async () => {
    h = await startHarness();
    const { c } = await hello(h);
    c.send({ ping: { nonce: 42, sentMs: 1 } });
    expect((await c.next(2))?.pong?.nonce).toBe(42);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${h?.url.replace('ws:', 'http:') ?? ''}/api/v1/other`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(404);
  });

  it('close() tells connected probes it is shutting down (1001)', async () => {
    h = await startHarness();
    const { c } = await hello(h);
    await h.ingest.close();
    expect(c.frames.at(-1)?.error?.code).toBe('STEPPE_ERR_SHUTTING_DOWN');
    expect(await c.closed).toBe(1001);
  });
});
