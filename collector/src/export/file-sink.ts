import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { type Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { EXPORT_CHUNK_CHARS } from './formats.js';

/** Counts and hashes the bytes passing through, unchanged. */
export class DigestStream extends Transform {
  readonly #hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Hex SHA-256 of everything that passed (call once, after the end). */
  digest(): string {
    return this.#hash.digest('hex');
  }
}

/**
 * A file written from text, optionally gzip-compressed, with the SHA-256 and
 * size of the bytes on disk computed on the way. Writes honour backpressure:
 * `write` returns a promise only when the caller must wait for the disk.
 */
export class FileSink {
  readonly #head: Duplex;
  readonly #digest = new DigestStream();
  readonly #done: Promise<void>;
  #failure: unknown;
  #parts: string[] = [];
  #length = 0;

  constructor(path: string, gzip: boolean) {
    this.#head = gzip ? createGzip({ level: 6 }) : new PassThrough();
    this.#done = pipeline(this.#head, this.#digest, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
    this.#done.catch((err: unknown) => {
      this.#failure = err;
    });
  }

  /** Append text; a returned promise must be awaited before writing more. */
  write(text: string): Promise<void> | undefined {
    this.#parts.push(text);
    this.#length += text.length;
    return this.#length >= EXPORT_CHUNK_CHARS ? this.#flush() : undefined;
  }

  /** Append a chunk of bytes (UTF-8 text, best ~64 KiB) after any pending text; await it before writing more. */
  writeBytes(chunk: Buffer): Promise<void> {
    return this.#flush(chunk);
  }

  async #flush(bytes?: Buffer): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    const text = this.#parts.join('');
    this.#parts = [];
    this.#length = 0;
    if (text.length > 0) await this.#put(text);
    if (bytes !== undefined && bytes.length > 0) await this.#put(bytes);
  }

  async #put(chunk: string | Buffer): Promise<void> {
    if (!this.#head.write(chunk)) {
      // Wait for the disk, or for the pipeline to fail (then 'drain' never comes).
      await Promise.race([once(this.#head, 'drain'), this.#done]);
      if (this.#failure !== undefined) throw this.#failure;
    }
  }

  /** Flush, close, and return the size and SHA-256 of the file as written. */
  async finish(): Promise<{ bytes: number; sha256: string }> {
    await this.#flush();
    this.#head.end();
    await this.#done;
    return { bytes: this.#digest.bytes, sha256: this.#digest.digest() };
  }

  /** Stop writing after a failure elsewhere (the caller removes the file). */
  abort(): void {
    this.#head.destroy();
  }
}
