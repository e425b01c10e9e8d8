import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, PROTOCOL_VERSION, decodeFrame, encodeFrame, encodeMeasurement, generateSigningKeyPair, probeIdFromPublicKey, sealBatch } from '@steppe/shared';
import { Uplink } from '../../probe/src/uplink/index.js';
import { FrameMutator } from './fixtures/frame-mutator.js';
import { rawExchange } from './fixtures/raw-ws-client.js';
import { realisticMeasurement, seededRandom } from './fixtures/realistic-measurements.js';
import { makeProbe, queueMeasurements, storedIdsIn, tempDir } from './helpers.js';
import { type CollectorProcess, spawnCollector } from './processes.js';

// ≥ 10,000 mutated and random frames at a live collector process, while a
// well-behaved probe streams beside them. Every frame the decoder itself
// rejects must be answered with an Error frame carrying a documented code;
// the collector must not crash; the good probe's measurements must all land.
const SEED = 20201206;
const FRAMES = 10_000;
const CONCURRENCY = 32;
const tmp = tempDir('steppe-fuzz-');
const db = join(tmp.path, 'collector.sqlite');
let collector: CollectorProcess;

beforeAll(async () => {
  collector = await spawnCollector(['--db', db, '--limits', JSON.stringify({ maxBatchesPerSecond: 1_000_000, maxInFlight: 1024 }), '--no-deflate']);
});
afterAll(async () => {
  await collector.kill('SIGTERM');
  tmp.remove();
});

type Outcome = { code: string } | { ok: string } | { closed: number };

/** Pipeline [hello,] frame on a fresh connection; the first reply that is not the Welcome decides. */
async function probeOnce(port: number, hello: Uint8Array | undefined, frame: Uint8Array): Promise<Outcome> {
  const r = await rawExchange('127.0.0.1', port, '/api/v1/ingest', hello === undefined ? [frame] : [hello, frame], hello === undefined ? 1 : 2);
  const replies = r.messages.map((m) => decodeFrame(m));
  const start = hello === undefined ? 0 : 1;
  if (hello !== undefined && !(replies[0]?.ok === true && replies[0].value.body === 'welcome')) return { closed: -3 };
  const reply = replies[start];
  if (reply === undefined) return { closed: r.closeCode ?? -1 };
  if (!reply.ok) return { code: `undecodable reply ${reply.error.code}` };
  if (reply.value.body === 'error') return { code: reply.value.error?.code ?? '' };
  return { ok: reply.value.body };
}

describe('fuzzing the ingest endpoint', () => {
  it(`answers ${FRAMES} mutated and random frames with coded errors and keeps serving`, async () => {
    const good = makeProbe(join(tmp.path, 'good-probe'));
    const goodIds = queueMeasurements(good, 400, Date.now() - 600_000, 1_000, 99);
    const uplink = new Uplink({ collectors: [collector.url], identity: good.identity, outbox: good.outbox, maxBatchMeasurements: 2, maxInFlight: 1, backoff: { baseMs: 20, capMs: 200 } });
    const goodDone = uplink.flush({ timeoutMs: 120_000 });

    // Seeds: a valid hello and a valid signed batch of a fuzzing identity.
    const keys = generateSigningKeyPair();
    const probeId = probeIdFromPublicKey(keys.publicKey);
    const hello = encodeFrame({ hello: { protocolVersion: PROTOCOL_VERSION, probeId, publicKey: keys.publicKey, softwareVersion: 'fuzz/1' } });
    const rand = seededRandom(SEED);
    const batches = Array.from({ length: 8 }, (_, i) => encodeFrame({ batch: sealBatch({ keys, probeId, sequence: i + 1, createdMs: Date.now(), measurements: [encodeMeasurement(realisticMeasurement(probeId, Date.now() - i * 1000, rand))] }) }));
    const mutator = new FrameMutator(SEED);
    const codes = new Map<string, number>();
    let expectedErrors = 0;
    let answered = 0;
    let next = 0;
    const failures: string[] = [];
    const worker = async (): Promise<void> => {
      while (next < FRAMES) {
        const n = next;
        next += 1;
        const pick = mutator.int(10);
        let frame: Uint8Array;
        let withHello: Uint8Array | undefined;
        if (pick < 2) frame = mutator.bytes(mutator.int(600));
        else if (pick < 4) frame = mutator.mutate(hello, batches[0] ?? hello).bytes;
        else {
          const seed = batches[mutator.int(batches.length)] ?? hello;
          frame = mutator.mutate(seed, hello).bytes;
          withHello = hello;
        }
        const locallyBad = !decodeFrame(frame).ok;
        if (locallyBad) expectedErrors += 1;
        const outcome = await probeOnce(collector.port, withHello, frame);
        if ('code' in outcome) {
          answered += 1;
          codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
          if (!(outcome.code in ERROR_CODES)) failures.push(`frame ${n}: undocumented code ${outcome.code}`);
        } else if (locallyBad) {
          failures.push(`frame ${n}: bad frame got ${JSON.stringify(outcome)} instead of an Error`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures.slice(0, 10)).toEqual([]);
    expect(next).toBeGreaterThanOrEqual(FRAMES);
    expect(answered).toBeGreaterThanOrEqual(expectedErrors);
    expect(collector.child.exitCode).toBeNull();
    expect(codes.get('STEPPE_ERR_FRAME_DECODE') ?? 0).toBeGreaterThan(0);
    expect(codes.get('STEPPE_ERR_FRAME_INVALID') ?? 0).toBeGreaterThan(0);
    expect((codes.get('STEPPE_ERR_BAD_SIGNATURE') ?? 0) + (codes.get('STEPPE_ERR_BATCH_MISMATCH') ?? 0)).toBeGreaterThan(0);

    const result = await goodDone;
    await uplink.close();
    good.outbox.close();
    expect(result.pending).toBe(0);
    const stored = new Set(await storedIdsIn(db));
    for (const id of goodIds) expect(stored.has(id)).toBe(true);
    // Still serving after the storm.
    expect('ok' in (await probeOnce(collector.port, undefined, hello))).toBe(true);
  }, 120_000);
});
