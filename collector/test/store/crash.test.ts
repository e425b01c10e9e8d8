import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { KAZAKHTELECOM, incomingMeasurement, newProbe, signedBatch } from './fixtures.js';

// A commit that resolved must survive the process dying right after it (the
// collector acks then; the commit ran on the writer thread). The child is SIGKILLed the moment it reports the
// commit: no close(), no checkpoint, no exit handlers. Uses the built dist/
// (npm test builds first).
const distStore = fileURLToPath(new URL('../../dist/store/sqlite-store.js', import.meta.url));
const distShared = fileURLToPath(new URL('../../../shared/dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'steppe-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SqliteStore durability', () => {
  it('keeps a returned commit when the process is killed right after', async () => {
    expect(existsSync(distStore) && existsSync(distShared), 'build first: npx tsc -b').toBe(true);
    const path = join(dir, 'crash.db');
    const probe = newProbe();
    const t0 = Date.UTC(2020, 11, 6, 4);
    const ms = Array.from({ length: 50 }, (_, i) => incomingMeasurement({ probeId: probe.probeId, startMs: t0 + i }));
    const batch = signedBatch(probe, 1, ms, t0, KAZAKHTELECOM);
    const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
    writeFileSync(join(dir, 'batch.json'), JSON.stringify({
      probeId: probe.probeId,
      publicKey: b64(probe.keys.publicKey),
      header: b64(batch.header),
      signature: b64(batch.signature),
      measurements: ms.map((m) => b64(m.raw)),
    }));
    const script = join(dir, 'child.mjs');
    writeFileSync(script, `
      import { readFileSync } from 'node:fs';
      const { decodeMeasurement } = await import(${JSON.stringify(pathToFileURL(distShared).href)});
      const { openSqliteStore } = await import(${JSON.stringify(pathToFileURL(distStore).href)});
      const input = JSON.parse(readFileSync(${JSON.stringify(join(dir, 'batch.json'))}, 'utf8'));
      const bytes = (s) => new Uint8Array(Buffer.from(s, 'base64'));
      const store = await openSqliteStore(${JSON.stringify(path)});
      const network = ${JSON.stringify(KAZAKHTELECOM)};
      await store.registerProbe(input.probeId, bytes(input.publicKey), ${t0}, network);
      const measurements = input.measurements.map((s) => {
        const raw = bytes(s);
        const d = decodeMeasurement(raw);
        if (!d.ok) throw d.error;
        return { id: d.value.id, raw, decoded: d.value };
      });
      const [r] = await store.commitBatches([{ probeId: input.probeId, sequence: 1, header: bytes(input.header), signature: bytes(input.signature), receivedMs: ${t0}, network, measurements }]);
      process.stdout.write('committed ' + r.stored.length + '\\n');
      setInterval(() => {}, 1000);
    `);
    const child = spawn(process.execPath, [script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) {
          child.kill('SIGKILL');
          resolve(out.trim());
        }
      });
      child.on('exit', () => reject(new Error(`child exited before committing: ${stderr}`)));
    });
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.on('exit', () => resolve());
    });
    expect(line).toBe('committed 50');
    expect(child.signalCode).toBe('SIGKILL');
    const store = await openSqliteStore(path);
    expect(await store.countMeasurements({})).toBe(50);
    for (const m of ms) expect(Buffer.from((await store.getMeasurement(m.id))?.raw ?? []).equals(Buffer.from(m.raw))).toBe(true);
    await store.close();
  });
});
