import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../collector/src/store/sqlite-store.js';
import { Uplink } from '../../probe/src/uplink/index.js';
import { makeProbe, queueMeasurements, tempDir, toArray } from './helpers.js';
import { type CollectorProcess, spawnCollector } from './processes.js';

// The volunteer's address must never reach the collector's disk or logs. The
// probe binds the distinctive source address 127.7.7.7; the collector's
// --networks map turns 127.7.7.0/24 into AS9198 so we can see the address was
// used (the network is stored) and then dropped (the address is not).
const PROBE_IP = '127.7.7.7';
const tmp = tempDir('steppe-privacy-');
const db = join(tmp.path, 'collector.sqlite');
let collector: CollectorProcess;

beforeAll(async () => {
  const networks = join(tmp.path, 'networks.csv');
  writeFileSync(networks, 'cidr,asn,cc,name\n127.7.7.0/24,9198,KZ,JSC Kazakhtelecom\n');
  collector = await spawnCollector(['--db', db, '--networks', networks]);
});
afterAll(async () => {
  await collector.kill('SIGTERM');
  tmp.remove();
});

function forms(ip: string): Buffer[] {
  const parts = ip.split('.').map(Number);
  const v4 = Buffer.from(parts);
  const mapped = Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), v4]);
  const u32be = Buffer.alloc(4);
  u32be.writeUInt32BE(v4.readUInt32BE(0));
  const u32le = Buffer.alloc(4);
  u32le.writeUInt32LE(v4.readUInt32BE(0));
  return [
    Buffer.from(ip), Buffer.from(`::ffff:${ip}`), Buffer.from(`::ffff:7f07:707`), Buffer.from(String(v4.readUInt32BE(0))),
    Buffer.from(ip, 'utf16le'), v4, mapped, u32le,
  ].concat(u32be.equals(v4) ? [] : [u32be]);
}

describe("the probe's IP address", () => {
  it('appears in no byte of the database, its WAL, or the collector logs', async () => {
    const probe = makeProbe(join(tmp.path, 'probe'));
    queueMeasurements(probe, 120, Date.now() - 600_000, 1_000, 7);
    const uplink = new Uplink({ collectors: [collector.url], identity: probe.identity, outbox: probe.outbox, localAddress: PROBE_IP, maxBatchMeasurements: 10 });
    const r = await uplink.flush({ timeoutMs: 20_000 });
    await uplink.close();
    probe.outbox.close();
    expect(r.pending).toBe(0);
    // SIGKILL: the WAL is left as is, not checkpointed away.
    await collector.kill('SIGKILL');

    const files = readdirSync(tmp.path).filter((f) => f.startsWith('collector.sqlite'));
    expect(files).toContain('collector.sqlite-wal');
    const needles = forms(PROBE_IP);
    for (const f of files) {
      const bytes = readFileSync(join(tmp.path, f));
      for (const needle of needles) expect(bytes.indexOf(needle), `${f} contains ${needle.toString('hex')}`).toBe(-1);
    }
    const logs = Buffer.from(collector.output());
    for (const needle of needles.slice(0, 4)) expect(logs.indexOf(needle)).toBe(-1);

    // The address was used: every measurement carries the network it maps to.
    const store = await openSqliteStore(db);
    const records = await toArray(store.iterateRecords({}, { order: 'asc' }));
    await store.close();
    expect(records.length).toBe(120);
    for (const rec of records) expect([rec.asn, rec.cc, rec.networkName]).toEqual([9198, 'KZ', 'JSC Kazakhtelecom']);
  }, 30_000);
});
