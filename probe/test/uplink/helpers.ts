import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMeasurement, newId } from '@steppe/shared';
import { loadOrCreateIdentity, type ProbeIdentity } from '../../src/identity/index.js';
import { Outbox } from '../../src/outbox/index.js';

export function tempRoot(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

let n = 0;

/** A probe data dir with `count` queued measurements, 1 s apart. */
export function probeWith(root: string, count: number, startMs = Date.now() - 3_600_000): { identity: ProbeIdentity; outbox: Outbox; ids: string[] } {
  const dir = join(root, `probe-${(n += 1)}`);
  const identity = loadOrCreateIdentity(dir);
  const outbox = Outbox.open(join(dir, 'outbox.sqlite'));
  const ids: string[] = [];
  outbox.enqueueMany(Array.from({ length: count }, (_, i) => {
    const id = newId(startMs + i * 1000);
    ids.push(Buffer.from(id).toString('hex'));
    const bytes = encodeMeasurement({ id, probeId: identity.probeId, testName: 'web_connectivity', startTimeMs: startMs + i * 1000, runtimeMs: 5, input: `https://example${i}.kz/` });
    return { id, startTimeMs: startMs + i * 1000, bytes };
  }));
  return { identity, outbox, ids };
}

export const hex = (id: Uint8Array): string => Buffer.from(id).toString('hex');
