import type { CommitResult, IncomingBatch, IngestStore, ProbeNetwork, ProbeRegistration } from '../../src/store/store.js';

/** An in-memory IngestStore for ingest tests: same contract as SqliteStore, no disk. */
export class MemoryIngestStore implements IngestStore {
  readonly keys = new Map<string, Uint8Array>();
  readonly rows = new Map<string, { probeId: string; raw: Uint8Array; network: ProbeNetwork; receivedMs: number; order: number }>();
  readonly touched: string[] = [];
  commits = 0;
  /** Set to make the next commit throw (storage failure). */
  failNext = 0;
  /** While set, key lookups and commits wait for it (a slow database). */
  gate: Promise<void> | undefined;

  async probeKey(probeId: string): Promise<Uint8Array | undefined> {
    await this.gate;
    return this.keys.get(probeId);
  }

  async registerProbe(probeId: string, publicKey: Uint8Array, _nowMs: number, _network: ProbeNetwork): Promise<ProbeRegistration> {
    const known = this.keys.get(probeId);
    if (known === undefined) {
      this.keys.set(probeId, new Uint8Array(publicKey));
      return 'registered';
    }
    return Buffer.from(known).equals(Buffer.from(publicKey)) ? 'known' : 'conflict';
  }

  async touchProbe(probeId: string, _nowMs: number, _network: ProbeNetwork): Promise<void> {
    this.touched.push(probeId);
  }

  async commitBatches(batches: readonly IncomingBatch[]): Promise<CommitResult[]> {
    await this.gate;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('simulated storage failure');
    }
    this.commits += 1;
    return batches.map((b) => {
      const stored: Uint8Array[] = [];
      const duplicates: Uint8Array[] = [];
      for (const m of b.measurements) {
        const key = Buffer.from(m.id).toString('hex');
        if (this.rows.has(key)) duplicates.push(m.id);
        else {
          this.rows.set(key, { probeId: b.probeId, raw: m.raw, network: b.network, receivedMs: b.receivedMs, order: this.rows.size });
          stored.push(m.id);
        }
      }
      return { stored, duplicates };
    });
  }
}
