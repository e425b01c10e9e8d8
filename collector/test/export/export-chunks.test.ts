import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, defaultVerdictReference, encodeMeasurement, generateSigningKeyPair, newId } from '@steppe/shared';
import { ByteWriter } from '../../src/export/byte-writer.js';
import { type ExportSource, decodeStored, exportRows } from '../../src/export/export-row.js';
import { EXPORT_FORMAT_NAMES, exportChunks, exportChunksParallel, exportLines, newCounter } from '../../src/export/formats.js';
import { JsonlWorkerPool } from '../../src/export/jsonl-pool.js';
import { SteppeLineWriter } from '../../src/export/steppe-line-writer.js';
import { ProofWriter, steppeJsonLine } from '../../src/export/steppe-jsonl.js';
import { importOoniFile } from '../../src/ooni/importer.js';
import type { MeasurementWithRaw } from '../../src/store/store.js';
import { seedSigned, tempStore } from './helpers.js';
import { describeEngines } from '../store/engines.js';
import { toArray } from '../store/fixtures.js';

describeEngines('export-chunks', (engine) => {
let t: Awaited<ReturnType<typeof tempStore>>;

beforeAll(async () => {
  t = await tempStore(() => engine.open());
  await seedSigned(t.store, 8);
  const fixture = fileURLToPath(new URL('../ooni/fixtures/web_connectivity-0.2.jsonl', import.meta.url));
  await importOoniFile(fixture, { store: t.store, reference: defaultVerdictReference(), clock: new ManualClock(Date.UTC(2024, 0, 1)) });
});
afterAll(async () => {
  await pool.close();
  await t.close();
});

// Worker threads run the built collector (dist/): `npx tsc -b` first, as for the CLI tests.
const pool = new JsonlWorkerPool(2, { idleMs: 1000 });

async function collect(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

const text = (chunks: Iterable<Buffer>): string => Buffer.concat([...chunks]).toString('utf8');

// Sealed as the routes do, with a fixed export id so two runs write the same
// bytes (ed25519 signatures are deterministic), and pages of 4 lines so an
// export has several.
const seal = { keys: generateSigningKeyPair(), createdMs: Date.UTC(2024, 0, 2), exportId: new Uint8Array(16).fill(7), pageLines: 4 };

describe('exportChunks', () => {
  it('streams exactly the text of exportLines, in every format and proof mode, with the same counts', async () => {
    for (const format of EXPORT_FORMAT_NAMES) {
      for (const options of [{ proofs: 'compact' as const }, { proofs: 'full' as const }, { proofs: 'compact' as const, seal }, { proofs: 'full' as const, seal }]) {
        const a = newCounter();
        const b = newCounter();
        const lines = (await toArray(exportLines(t.store, {}, format, a, options))).join('');
        const chunks = (await toArray(exportChunks(t.store, {}, format, b, options)));
        expect(text(chunks), `${format} ${JSON.stringify(options)}`).toBe(lines);
        expect(b).toEqual(a);
        expect(chunks.every((c) => c.length > 0)).toBe(true);
      }
    }
    // A filter that matches nothing gives no chunk at all (CSV: the header).
    expect((await toArray(exportChunks(t.store, { domains: ['nothing.example'] }, 'jsonl')))).toHaveLength(0);
  });

  it('falls back to the reference path for bytes the transcoder leaves to it, in line with the proofs written', async () => {
    const rows = (await toArray(exportRows(t.store, { sources: ['steppe'] }, true))).slice(0, 3);
    const first = rows[0];
    if (first === undefined) throw new Error('no rows');
    // Same measurement with a group-typed unknown field appended: protobufjs skips it, the transcoder does not try.
    const odd = { ...first, raw: Buffer.concat([Buffer.from(first.raw), Buffer.from([0xfb, 0x3e, 0xfc, 0x3e])]) };
    const writer = new SteppeLineWriter(new ProofWriter('compact'));
    const reference = new ProofWriter('compact');
    const out = new ByteWriter(16);
    let expected = '';
    for (const row of [odd, ...rows]) {
      writer.write(out, row, '{"record":"AA=="}');
      expected += steppeJsonLine(row, decodeStored(row), reference, '{"record":"AA=="}');
    }
    expect(out.take().toString('utf8')).toBe(expected);
    expect(writer.slow).toBe(1);
    expect(writer.fast).toBe(3);
  });

  it('reports a corrupt stored measurement as exportLines does', async () => {
    const [row] = (await toArray(t.store.iterateMeasurements({}, { order: 'asc' })));
    if (row === undefined) throw new Error('no rows');
    const broken: ExportSource = { iterateMeasurements: () => [{ ...row, raw: new Uint8Array([0x0a, 0xff]), proof: null }] };
    await expect(toArray(exportChunks(broken, {}, 'jsonl'))).rejects.toThrow(/does not decode/);
  });

  it('writes lines longer than a chunk whole', async () => {
    const [row] = (await toArray(t.store.iterateMeasurements({ sources: ['steppe'] }, { order: 'asc' }))) as MeasurementWithRaw[];
    if (row === undefined) throw new Error('no rows');
    const big = encodeMeasurement({ id: newId(1_607_220_000_000), startTimeMs: 1_607_220_000_000, input: 'x'.repeat(200_000) });
    const source: ExportSource = { iterateMeasurements: () => [{ ...row, raw: big, proof: null }, { ...row, proof: null }] };
    const chunks = (await toArray(exportChunks(source, {}, 'jsonl')));
    expect(text(chunks)).toBe((await toArray(exportLines(source, {}, 'jsonl'))).join(''));
    expect(chunks.length).toBeGreaterThanOrEqual(1);
  });

  it('writes the same bytes from worker threads, pages in order, with the same counts', async () => {
    expect(pool.available, 'the worker script is built (npx tsc -b)').toBe(true);
    for (const options of [{ proofs: 'compact' as const }, { proofs: 'full' as const, seal }, { proofs: 'compact' as const, seal }]) {
      const a = newCounter();
      const b = newCounter();
      const lines = (await toArray(exportLines(t.store, {}, 'jsonl', a, options))).join('');
      expect(await collect(exportChunksParallel(t.store, {}, 'jsonl', pool, b, options))).toBe(lines);
      expect(b).toEqual(a);
    }
    // Many pages over two workers: order is kept (rows repeated to fill pages).
    const rows = (await toArray(t.store.iterateMeasurements({}, { order: 'asc', withProofs: true })));
    const many: ExportSource = { iterateMeasurements: () => Array.from({ length: 8 }, () => rows).flat() };
    expect(await collect(exportChunksParallel(many, {}, 'jsonl', pool, undefined, { seal }))).toBe((await toArray(exportLines(many, {}, 'jsonl', undefined, { seal }))).join(''));
    // Other formats are written on the main thread.
    expect(await collect(exportChunksParallel(t.store, {}, 'csv', pool))).toBe((await toArray(exportLines(t.store, {}, 'csv'))).join(''));
  });

  it('reads the store only a few pages ahead of the consumer', async () => {
    let pulled = 0;
    const rows = (await toArray(t.store.iterateMeasurements({}, { order: 'asc', withProofs: true })));
    const endless: ExportSource = {
      *iterateMeasurements() {
        for (let i = 0; i < 1_000_000; i += 1) {
          pulled += 1;
          const row = rows[i % rows.length];
          if (row !== undefined) yield row;
        }
      },
    };
    const chunks = exportChunksParallel(endless, {}, 'jsonl', pool)[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Four pages of 256 rows per worker in flight, and the one being filled.
    expect(pulled).toBeLessThanOrEqual((4 * pool.size + 1) * 256);
    await chunks.return(undefined);
    const stopped = pulled;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pulled).toBe(stopped);
  });

  it('reports a corrupt measurement from a worker', async () => {
    const [row] = (await toArray(t.store.iterateMeasurements({}, { order: 'asc' })));
    if (row === undefined) throw new Error('no rows');
    const broken: ExportSource = { iterateMeasurements: () => [{ ...row, raw: new Uint8Array([0x0a, 0xff]), proof: null }] };
    await expect(collect(exportChunksParallel(broken, {}, 'jsonl', pool))).rejects.toThrow(/does not decode/);
  });

  it('reads proofs once per batch from the store', async () => {
    const rows = (await toArray(t.store.iterateMeasurements({ sources: ['steppe'] }, { order: 'asc', withProofs: true }))) as (MeasurementWithRaw & { proof?: unknown })[];
    for (const r of rows) expect(r.proof).toEqual((await t.store.getMeasurement(r.id))?.proof);
    // Rows of one batch share one proof object.
    const distinct = new Set(rows.map((r) => r.proof));
    expect(distinct.size).toBeLessThan(rows.length);
    const plain = (await toArray(t.store.iterateMeasurements({ sources: ['steppe'] }, { order: 'asc' }))) as (MeasurementWithRaw & { proof?: unknown })[];
    expect(plain.every((r) => r.proof === undefined)).toBe(true);
  });
});
});
