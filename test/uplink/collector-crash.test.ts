import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Uplink } from '../../probe/src/uplink/index.js';
import { makeProbe, queueMeasurements, storedIdsIn, tempDir } from './helpers.js';
import { type CollectorProcess, spawnCollector } from './processes.js';

// Chain of custody under crashes: the collector process is SIGKILLed three times
// while three probes stream. Acks only follow durable commits and the
// probes resend whatever was not acked, so once the outboxes are empty every
// measurement must be in the database exactly once. Uses collector/dist.
const tmp = tempDir('steppe-collector-crash-');
afterAll(() => tmp.remove());

describe('collector killed (SIGKILL) while probes stream', () => {
  it('stores every measurement exactly once after restarts', async () => {
    const db = join(tmp.path, 'collector.sqlite');
    let collector: CollectorProcess = await spawnCollector(['--db', db, '--port', '0']);
    const port = collector.port;
    const probes = [0, 1, 2].map((i) => makeProbe(join(tmp.path, `probe-${i}`)));
    const expected = new Set<string>();
    const now = Date.now() - 3_600_000;
    probes.forEach((p, i) => queueMeasurements(p, 200, now + i, 1_000, 10 + i).forEach((id) => expected.add(id)));
    let acks = 0;
      const uplinks = probes.map((p) => {
      const u = new Uplink({
        collectors: [collector.url], identity: p.identity, outbox: p.outbox,
        maxBatchMeasurements: 10, maxInFlight: 3, backoff: { baseMs: 20, capMs: 200 }, connectTimeoutMs: 2_000, ackTimeoutMs: 3_000,
      });
      u.on('acked', () => {
        acks += 1;
      });
      return u;
    });
    const flushed = Promise.all(uplinks.map((u) => u.flush({ timeoutMs: 60_000 })));
    // Kill as soon as some acks flowed, three times, restarting on the same port.
    let kills = 0;
    while (kills < 3) {
      const before = acks;
      const deadline = Date.now() + 10_000;
      while (acks < before + 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      await collector.kill('SIGKILL');
      kills += 1;
      collector = await spawnCollector(['--db', db, '--port', String(port)]);
    }
    const results = await flushed;
    await Promise.all(uplinks.map((u) => u.close()));
    await collector.kill('SIGTERM');
    for (const r of results) expect(r.pending).toBe(0);
    for (const p of probes) {
      expect(p.outbox.stats().count).toBe(0);
      p.outbox.close();
    }
    const ids = await storedIdsIn(db);
    expect(ids.length).toBe(expected.size);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(expected.has(id)).toBe(true);
    expect(kills).toBe(3);
  }, 90_000);
});
