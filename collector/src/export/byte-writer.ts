/**
 * A growable output buffer for JSON text written as UTF-8 bytes: exports
 * write lines into it and hand the filled part to the stream as one chunk,
 * without building JavaScript strings for the bulk of the text.
 */
export class ByteWriter {
  buf: Buffer;
  pos = 0;
  readonly #initial: number;
  #view: DataView;

  constructor(initialBytes: number = 256 * 1024) {
    this.#initial = initialBytes;
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.#view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** A constant fragment (keys, defaults): four bytes per store. */
  fragment(f: Fragment): void {
    const n = f.length;
    if (this.pos + n > this.buf.length) this.#grow(n);
    const view = this.#view;
    const words = f.words;
    let p = this.pos;
    for (let i = 0; i < words.length; i += 1) {
      view.setInt32(p, words[i] ?? 0, true);
      p += 4;
    }
    const tail = f.tail;
    const buf = this.buf;
    for (let i = 0; i < tail.length; i += 1) buf[p++] = tail[i] ?? 0;
    this.pos = p;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.#grow(n);
  }

  #grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n + 4096));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  byte(c: number): void {
    if (this.pos >= this.buf.length) this.#grow(1);
    this.buf[this.pos++] = c;
  }

  /** Copy bytes (short runs by a loop: cheaper than a native call). */
  bytes(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.#grow(n);
    if (n <= 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i += 1) buf[p++] = src[i] ?? 0;
      this.pos = p;
    } else {
      this.buf.set(src, this.pos);
      this.pos += n;
    }
  }

  /** Text known to be ASCII (numbers, base64, hex, ISO dates). */
  ascii(text: string): void {
    const n = text.length;
    if (this.pos + n > this.buf.length) this.#grow(n);
    if (n <= 32) {
      const buf = this.buf;
      let p = this.pos;
      for (let i = 0; i < n; i += 1) buf[p++] = text.charCodeAt(i);
      this.pos = p;
    } else {
      this.pos += this.buf.write(text, this.pos, n, 'latin1');
    }
  }

  /** Any text, UTF-8 encoded. */
  utf8(text: string): void {
    const n = Buffer.byteLength(text, 'utf8');
    if (this.pos + n > this.buf.length) this.#grow(n);
    this.pos += this.buf.write(text, this.pos, n, 'utf8');
  }

  /** The bytes written so far, and a fresh buffer for what follows (the returned view is never written again). */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.#initial);
    this.#view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
    return out;
  }
}

/** Constant bytes prepared for ByteWriter#fragment: little-endian 32-bit words, then the remaining bytes. */
export class Fragment {
  readonly bytes: Buffer;
  readonly length: number;
  readonly words: Int32Array;
  readonly tail: Uint8Array;

  constructor(bytes: Buffer) {
    this.bytes = bytes;
    this.length = bytes.length;
    const n = bytes.length >> 2;
    this.words = new Int32Array(n);
    for (let i = 0; i < n; i += 1) this.words[i] = bytes.readInt32LE(i * 4);
    this.tail = Uint8Array.from(bytes.subarray(n * 4));
  }
}

const JSON_STRINGS = new Map<string, Buffer>();

/**
 * `JSON.stringify(text)` as UTF-8 bytes, cached for short texts that repeat
 * (verdicts, country codes, network names, blocking types).
 */
export function jsonStringBytes(text: string): Buffer {
  let bytes = JSON_STRINGS.get(text);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(text), 'utf8');
    if (text.length <= 128) {
      if (JSON_STRINGS.size >= 4096) JSON_STRINGS.clear();
      JSON_STRINGS.set(text, bytes);
    }
  }
  return bytes;
}

const JSON_NUMBERS = new Map<number, Buffer>();

/** `JSON.stringify(value)` of a number as bytes, cached (AS numbers, sequence numbers repeat). */
export function jsonNumberBytes(value: number): Buffer {
  let bytes = JSON_NUMBERS.get(value);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(value), 'latin1');
    if (JSON_NUMBERS.size >= 4096) JSON_NUMBERS.clear();
    JSON_NUMBERS.set(value, bytes);
  }
  return bytes;
}
