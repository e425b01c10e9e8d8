import * as crypto from 'node:crypto';

/**
 * The stored form of a measurement's encoded bytes (docs/design/dd-004-storage.md).
 *
 * Certificates and body prefixes repeat across thousands of measurements, so
 * the store keeps each distinct one once, keyed by SHA-256, and the
 * measurement's bytes with those fields' *contents* cut out. Only contents
 * are cut: tags and length prefixes stay verbatim, so splicing the contents
 * back in gives the original bytes exactly — whatever encoder the probe used
 * (minimal varints or not, field order, unknown fields) — and the signature
 * over their digest still verifies.
 *
 * Compact layout:
 *   0x00, original bytes                         (nothing worth cutting, or not parseable)
 *   0x01, varint n, n × (varint gap, varint length, 32-byte SHA-256), residual bytes
 * where `gap` is the count of residual bytes between the previous cut (or the
 * start) and this cut, and the residual is the original minus the cut contents.
 */

/** A field content cut out of a measurement. */
export interface CutBlob {
  readonly sha256: Uint8Array;
  readonly data: Uint8Array;
}

/** Result of compacting a measurement's bytes. */
export interface CompactRaw {
  readonly compact: Uint8Array;
  readonly blobs: readonly CutBlob[];
}

const FORMAT_PLAIN = 0x00;
const FORMAT_SPLICED = 0x01;
const DIGEST_BYTES = 32;

/** Contents shorter than this stay inline: a 32-byte reference would not pay. */
export const DEFAULT_MIN_BLOB_BYTES = 96;

// Field numbers in steppe.proto whose contents are cut.
const MEASUREMENT_OBSERVATIONS = 20;
const OBSERVATIONS_TLS = 3;
const OBSERVATIONS_HTTP = 4;
const TLS_PEER_CERTIFICATES = 8;
const HTTP_BODY_PREFIX = 9;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

class Truncated extends Error {}

// Position after the varint that readVarint last read: module-level so the
// hot path (SpanFinder, once per field) allocates nothing.
let varintEnd = 0;

function readVarint(buf: Uint8Array, pos: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i += 1) {
    if (pos >= end) throw new Truncated();
    const byte = buf[pos] ?? 0;
    pos += 1;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      varintEnd = pos;
      return value;
    }
    scale *= 128;
  }
  throw new Truncated();
}

/**
 * The spans worth cutting, as flat [start, end, start, end, ...] offsets in
 * order, from a walk of the wire format. This runs for every measurement
 * ingested, so it allocates nothing per field: a cursor over the bytes
 * (`#pos`, `#value`) instead of tuples and closures.
 */
class SpanFinder {
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #value = 0;
  #minBytes = 0;
  #spans: number[] = [];

  find(raw: Uint8Array, minBytes: number): number[] {
    this.#buf = raw;
    this.#minBytes = minBytes;
    const spans: number[] = [];
    this.#spans = spans;
    try {
      this.#message(0, raw.length, 0);
    } finally {
      this.#buf = new Uint8Array(0);
    }
    return spans;
  }

  /**
   * Walk the fields of the message in [start, end) at `depth`: 0 Measurement
   * (into observations), 1 Observations (into tls_handshakes, http_requests),
   * 2 TlsHandshake / 3 HttpRequest (cut peer_certificates / body_prefix).
   * Throws Truncated on anything that is not well-formed wire format.
   */
  #message(start: number, end: number, depth: number): void {
    this.#pos = start;
    while (this.#pos < end) {
      this.#varint(end);
      const key = this.#value;
      const field = Math.floor(key / 8);
      switch (key % 8) {
        case WIRE_VARINT:
          this.#varint(end);
          break;
        case WIRE_I64:
          this.#pos += 8;
          break;
        case WIRE_I32:
          this.#pos += 4;
          break;
        case WIRE_LEN: {
          this.#varint(end);
          const s = this.#pos;
          const e = s + this.#value;
          if (e > end) throw new Truncated();
          if (depth === 0) {
            if (field === MEASUREMENT_OBSERVATIONS) this.#message(s, e, 1);
          } else if (depth === 1) {
            if (field === OBSERVATIONS_TLS) this.#message(s, e, 2);
            else if (field === OBSERVATIONS_HTTP) this.#message(s, e, 3);
          } else if ((depth === 2 && field === TLS_PEER_CERTIFICATES) || (depth === 3 && field === HTTP_BODY_PREFIX)) {
            if (e - s >= this.#minBytes) this.#spans.push(s, e);
          }
          this.#pos = e;
          break;
        }
        default:
          throw new Truncated(); // groups (3, 4) and reserved types: not ours to interpret
      }
      if (this.#pos > end) throw new Truncated();
    }
  }

  #varint(end: number): void {
    this.#value = readVarint(this.#buf, this.#pos, end);
    this.#pos = varintEnd;
  }
}

const finder = new SpanFinder();

function varintLength(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n += 1;
  return n;
}

function putVarint(out: Uint8Array, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    out[pos] = (v % 0x80) | 0x80;
    pos += 1;
    v = Math.floor(v / 0x80);
  }
  out[pos] = v;
  return pos + 1;
}

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object: a
// third of the cost for the kilobyte-sized fields hashed on every ingest.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

/** SHA-256 of `data`. */
export function sha256Of(data: Uint8Array): Uint8Array {
  return oneShot !== undefined ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}

/** The spans to cut from `raw`, or none when it is not well-formed wire format. */
function spansOf(raw: Uint8Array, minBlobBytes: number): number[] {
  try {
    return finder.find(raw, minBlobBytes);
  } catch (err) {
    if (!(err instanceof Truncated)) throw err;
    return [];
  }
}

/** Bytes of the compact form of `raw` with `spans` cut out. */
function compactSize(raw: Uint8Array, spans: readonly number[]): number {
  if (spans.length === 0) return raw.length + 1;
  let size = 1 + varintLength(spans.length / 2);
  let previousEnd = 0;
  let cutBytes = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i] ?? 0;
    const end = spans[i + 1] ?? 0;
    size += varintLength(start - previousEnd) + varintLength(end - start) + DIGEST_BYTES;
    cutBytes += end - start;
    previousEnd = end;
  }
  return size + raw.length - cutBytes;
}

/** Write the compact form into `out` (compactSize bytes); `digestAt(start, end)` gives each cut's SHA-256. */
function writeCompact(raw: Uint8Array, spans: readonly number[], out: Uint8Array, digestAt: (start: number, end: number) => Uint8Array): void {
  if (spans.length === 0) {
    out[0] = FORMAT_PLAIN;
    out.set(raw, 1);
    return;
  }
  out[0] = FORMAT_SPLICED;
  let pos = putVarint(out, 1, spans.length / 2);
  let previousEnd = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i] ?? 0;
    const end = spans[i + 1] ?? 0;
    pos = putVarint(out, pos, start - previousEnd);
    pos = putVarint(out, pos, end - start);
    out.set(digestAt(start, end), pos);
    pos += DIGEST_BYTES;
    previousEnd = end;
  }
  let from = 0;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i] ?? 0;
    out.set(raw.subarray(from, start), pos);
    pos += start - from;
    from = spans[i + 1] ?? 0;
  }
  out.set(raw.subarray(from), pos);
}

/**
 * Cut repeated large fields out of an encoded Measurement. Bytes that are not
 * well-formed protobuf are kept whole (format 0): the store never refuses or
 * alters what a probe signed.
 */
export function compactRaw(raw: Uint8Array, minBlobBytes: number = DEFAULT_MIN_BLOB_BYTES): CompactRaw {
  const spans = spansOf(raw, minBlobBytes);
  const compact = new Uint8Array(compactSize(raw, spans));
  const blobs: CutBlob[] = [];
  writeCompact(raw, spans, compact, (start, end) => {
    const data = raw.subarray(start, end);
    const digest = sha256Of(data);
    blobs.push({ sha256: digest, data });
    return digest;
  });
  return { compact, blobs };
}

/**
 * compactRaw for the ingest hot path: writes into one reused buffer (a
 * view of it is valid until the next call — SQLite copies bound blobs) and
 * asks `digestAt(raw, start, end)` for each cut's digest, so a cache can
 * answer for contents it has seen without hashing or slicing them.
 */
export class RawCompactor {
  readonly #minBlobBytes: number;
  readonly #digestAt: (raw: Uint8Array, start: number, end: number) => Uint8Array;
  #scratch = new Uint8Array(64 * 1024);

  constructor(minBlobBytes: number, digestAt: (raw: Uint8Array, start: number, end: number) => Uint8Array) {
    this.#minBlobBytes = minBlobBytes;
    this.#digestAt = digestAt;
  }

  /** The compact form of `raw`, in the reused buffer. */
  compact(raw: Uint8Array): Uint8Array {
    const spans = spansOf(raw, this.#minBlobBytes);
    const size = compactSize(raw, spans);
    if (size > this.#scratch.length) this.#scratch = new Uint8Array(Math.max(size, this.#scratch.length * 2));
    const out = this.#scratch.subarray(0, size);
    writeCompact(raw, spans, out, (start, end) => this.#digestAt(raw, start, end));
    return out;
  }
}

/** A parsed compact header: the references and where the residual starts. */
export interface CompactRefs {
  readonly refs: readonly { readonly gap: number; readonly length: number; readonly sha256: Uint8Array }[];
  readonly residualStart: number;
}

/** The blob references of a compact form (empty for format 0). Throws on a corrupt form. */
export function compactRefs(compact: Uint8Array): CompactRefs {
  const format = compact[0];
  if (format === FORMAT_PLAIN) return { refs: [], residualStart: 1 };
  if (format !== FORMAT_SPLICED) throw new RangeError(`unknown stored raw format ${String(format)}`);
  try {
    const count = readVarint(compact, 1, compact.length);
    let pos = varintEnd;
    const refs: { gap: number; length: number; sha256: Uint8Array }[] = [];
    for (let i = 0; i < count; i += 1) {
      const gap = readVarint(compact, pos, compact.length);
      const length = readVarint(compact, varintEnd, compact.length);
      pos = varintEnd;
      if (pos + DIGEST_BYTES > compact.length) throw new Truncated();
      refs.push({ gap, length, sha256: compact.subarray(pos, pos + DIGEST_BYTES) });
      pos += DIGEST_BYTES;
    }
    return { refs, residualStart: pos };
  } catch (err) {
    if (err instanceof Truncated) throw new RangeError('stored raw form is truncated');
    throw err;
  }
}

/**
 * Rebuild the original bytes from the compact form, fetching each cut
 * content by digest. Throws when a blob is missing or of the wrong length.
 */
export function restoreRaw(compact: Uint8Array, blobOf: (sha256: Uint8Array) => Uint8Array | undefined): Uint8Array {
  const { refs, residualStart } = compactRefs(compact);
  if (refs.length === 0) return compact.subarray(residualStart);
  let total = compact.length - residualStart;
  for (const ref of refs) total += ref.length;
  const out = new Uint8Array(total);
  let src = residualStart;
  let dst = 0;
  for (const ref of refs) {
    if (src + ref.gap > compact.length) throw new RangeError('stored raw form is truncated');
    out.set(compact.subarray(src, src + ref.gap), dst);
    src += ref.gap;
    dst += ref.gap;
    const data = blobOf(ref.sha256);
    if (data === undefined) throw new RangeError(`blob ${Buffer.from(ref.sha256).toString('hex')} is missing`);
    if (data.length !== ref.length) throw new RangeError(`blob ${Buffer.from(ref.sha256).toString('hex')} has ${data.length} bytes, expected ${ref.length}`);
    out.set(data, dst);
    dst += ref.length;
  }
  out.set(compact.subarray(src), dst);
  return out;
}
