/**
 * A byte-bounded cache of blob contents by hex digest. Certificates and
 * blockpages repeat across most measurements, so exports restore bytes
 * mostly from memory. When full, the older half is dropped (Map keeps
 * insertion order): cheaper than a strict LRU and as good for this access
 * pattern, where a few hot blobs dominate.
 */
export class BlobCache {
  readonly #maxBytes: number;
  #bytes = 0;
  readonly #entries = new Map<string, Uint8Array>();

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get(key: string): Uint8Array | undefined {
    return this.#entries.get(key);
  }

  set(key: string, data: Uint8Array): void {
    if (data.length > this.#maxBytes / 4 || this.#entries.has(key)) return;
    if (this.#bytes + data.length > this.#maxBytes) this.#evictHalf();
    this.#entries.set(key, data);
    this.#bytes += data.length;
  }

  #evictHalf(): void {
    const target = this.#maxBytes / 2;
    for (const [key, data] of this.#entries) {
      if (this.#bytes <= target) break;
      this.#entries.delete(key);
      this.#bytes -= data.length;
    }
  }
}

/** A content the writer has hashed: its bytes (a copy), digest and whether a commit has stored it. */
interface KnownBlob {
  readonly data: Buffer;
  readonly sha256: Uint8Array;
  /** Written by a transaction that committed. */
  stored: boolean;
  /** Number of the open transaction that wrote it (0: none). */
  writtenIn: number;
}

/** Most contents kept under one fingerprint: bounds the work a crafted collision can cause. */
const MAX_PER_FINGERPRINT = 4;

/**
 * Contents a cheap fingerprint cannot tell apart are compared byte for byte,
 * so only equal bytes share a digest. Samples ~24 bytes of d[start, end):
 * the length, eight spread over the content and the last sixteen (a DER
 * certificate ends in its signature, unique to it).
 */
function fingerprint(d: Uint8Array, start: number, end: number): number {
  const n = end - start;
  let h = n | 0;
  const step = n > 8 ? Math.floor(n / 8) : 1;
  for (let i = start; i < end; i += step) h = Math.imul(h ^ (d[i] ?? 0), 0x01000193);
  for (let i = n > 16 ? end - 16 : start; i < end; i += 1) h = Math.imul(h ^ (d[i] ?? 0), 0x01000193);
  return h >>> 0;
}

/**
 * The digests of blob contents (certificates, body prefixes) the writer has
 * seen, so ingest neither hashes a repeated content again nor re-inserts a
 * blob it knows is stored. Keyed by content — a fingerprint, then a byte
 * comparison (a memcmp is ~50× cheaper than SHA-256 of the same bytes) —
 * never by anything a probe claims. A blob counts as stored only once the
 * transaction that wrote it committed: after a rollback it is written again.
 * Bounded in bytes; when full, everything is forgotten (it refills within a
 * few batches: a few hot contents dominate).
 */
export class BlobDigests {
  readonly #maxBytes: number;
  #bytes = 0;
  #byPrint = new Map<number, KnownBlob[]>();
  #pending: KnownBlob[] = [];
  #transaction = 1;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * The digest of the content raw[start, end), computing it with `hash` only
   * for new contents; calls `write` when the blob must be written in the
   * open transaction (not stored by a committed one, nor written earlier in
   * this one).
   */
  digest(raw: Uint8Array, start: number, end: number, hash: (data: Uint8Array) => Uint8Array, write: (sha256: Uint8Array, data: Uint8Array) => void): Uint8Array {
    const print = fingerprint(raw, start, end);
    const bucket = this.#byPrint.get(print);
    let known: KnownBlob | undefined;
    if (bucket !== undefined) {
      for (const k of bucket) {
        if (k.data.length === end - start && k.data.compare(raw, start, end) === 0) {
          known = k;
          break;
        }
      }
    }
    if (known === undefined) {
      const data = raw.subarray(start, end);
      known = { data: Buffer.from(data), sha256: hash(data), stored: false, writtenIn: 0 };
      this.#remember(print, bucket, known);
    }
    if (!known.stored && known.writtenIn !== this.#transaction) {
      write(known.sha256, known.data);
      known.writtenIn = this.#transaction;
      this.#pending.push(known);
    }
    return known.sha256;
  }

  #remember(print: number, bucket: KnownBlob[] | undefined, blob: KnownBlob): void {
    if (bucket !== undefined && bucket.length >= MAX_PER_FINGERPRINT) return; // still written, just not cached
    if (this.#bytes + blob.data.length > this.#maxBytes) {
      this.#byPrint = new Map();
      this.#bytes = 0;
    }
    const list = this.#byPrint.get(print);
    if (list === undefined) this.#byPrint.set(print, [blob]);
    else list.push(blob);
    this.#bytes += blob.data.length;
  }

  /** The open transaction committed: what it wrote is stored. */
  committed(): void {
    for (const k of this.#pending) {
      k.stored = true;
      k.writtenIn = 0;
    }
    this.#pending = [];
    this.#transaction += 1;
  }

  /** The open transaction rolled back: what it wrote is not stored. */
  rolledBack(): void {
    for (const k of this.#pending) k.writtenIn = 0;
    this.#pending = [];
    this.#transaction += 1;
  }
}
