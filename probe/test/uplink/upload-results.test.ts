import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type Measurement, newId, wire } from '@steppe/shared';
import { OUTBOX_FILE_NAME, uploadMeasurements } from '../../src/cli/upload-results.js';
import { loadOrCreateIdentity } from '../../src/identity/index.js';
import { Outbox } from '../../src/outbox/index.js';
import { tempRoot } from './helpers.js';
import { ScriptedCollector, welcome } from './scripted-collector.js';

const root = tempRoot('steppe-upload-');
afterAll(() => root.remove());
const servers: ScriptedCollector[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function measurements(n: number): Measurement[] {
  return Array.from({ length: n }, (_, i) => wire.Measurement.create({ id: newId(Date.now() - 10_000 + i), testName: 'web_connectivity', startTimeMs: Date.now() - 10_000 + i, runtimeMs: 3, input: `https://site${i}.kz/` }));
}

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => { text += d.toString(); });
  return { stream, text: () => text };
}

describe('uploadMeasurements (measure --collector)', () => {
  it('queues everything, uploads, and reports all acknowledged', async () => {
    const c = new ScriptedCollector((f, ctx) => (f.body === 'hello' ? ctx.send(welcome()) : f.body === 'batch' ? ctx.ackAll(f) : undefined));
    servers.push(c);
    const url = await c.listen();
    const dataDir = join(root.path, 'ok');
    const err = sink();
    const r = await uploadMeasurements({ dataDir, collectors: [url], measurements: measurements(30), timeoutMs: 10_000, signal: new AbortController().signal, stderr: err.stream });
    expect(r).toEqual({ acked: 30, pending: 0, invalid: 0 });
    expect(err.text()).toContain('30 measurement(s) acknowledged');
    // The probe id was filled in from the identity.
    const probeId = loadOrCreateIdentity(dataDir).probeId;
    const sent = c.batches().flatMap((b) => (b.batch?.measurements ?? []).map((m) => wire.Measurement.decode(m).probeId));
    expect(new Set(sent)).toEqual(new Set([probeId]));
  });

  it('on timeout leaves the rest in the outbox and says so; a later run sends it', async () => {
    const dataDir = join(root.path, 'later');
    const silent = new ScriptedCollector((f, ctx) => (f.body === 'hello' ? ctx.send(welcome()) : undefined));
    servers.push(silent);
    const url = await silent.listen();
    const err = sink();
    const r = await uploadMeasurements({ dataDir, collectors: [url], measurements: measurements(5), timeoutMs: 300, signal: new AbortController().signal, stderr: err.stream });
    expect(r).toEqual({ acked: 0, pending: 5, invalid: 0 });
    expect(err.text()).toMatch(/not all acknowledged within 300 ms: 0 acknowledged, 5 left in the outbox .*outbox\.sqlite/);
    const outbox = Outbox.open(join(dataDir, OUTBOX_FILE_NAME));
    expect(outbox.stats().count).toBe(5);
    outbox.close();

    const good = new ScriptedCollector((f, ctx) => (f.body === 'hello' ? ctx.send(welcome()) : f.body === 'batch' ? ctx.ackAll(f) : undefined));
    servers.push(good);
    const goodUrl = await good.listen();
    const again = await uploadMeasurements({ dataDir, collectors: [goodUrl], measurements: [], timeoutMs: 5_000, signal: new AbortController().signal, stderr: sink().stream });
    expect(again).toEqual({ acked: 5, pending: 0, invalid: 0 });
  });

  it('refuses invalid measurements by name, queues the rest', async () => {
    const dataDir = join(root.path, 'invalid');
    const err = sink();
    const bad = wire.Measurement.create({ id: newId(), testName: 'web_connectivity', startTimeMs: Date.now(), input: '' });
    const other = wire.Measurement.create({ id: newId(), probeId: 'psomeoneelse', testName: 'web_connectivity', startTimeMs: Date.now(), input: 'https://x.kz/' });
    const abort = new AbortController();
    abort.abort();
    const r = await uploadMeasurements({ dataDir, collectors: ['http://127.0.0.1:9'], measurements: [...measurements(2), bad, other], timeoutMs: 1_000, signal: abort.signal, stderr: err.stream });
    expect(r).toEqual({ acked: 0, pending: 2, invalid: 2 });
    expect(err.text()).toMatch(/not queued for upload: input must be/);
    expect(err.text()).toMatch(/names probe psomeoneelse/);
    expect(err.text()).toContain('interrupted');
  });
});
