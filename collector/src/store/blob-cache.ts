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

/**
 * A bounded set of digests known to be committed, so ingest skips the
 * INSERT OR IGNORE for blobs it has already written. Only filled after a
 * commit succeeds: a rolled-back blob must be written again.
 */
export class KnownDigests {
  readonly #max: number;
  #set = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  has(key: string): boolean {
    return this.#set.has(key);
  }

  addAll(keys: Iterable<string>): void {
    for (const key of keys) {
      if (this.#set.size >= this.#max) this.#set = new Set();
      this.#set.add(key);
    }
  }
}
