import * as crypto from 'node:crypto';

/**
 * The stored form of a measurement's encoded bytes (docs/design/dd-002-storage.md).
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

interface Span {
  readonly start: number;
  readonly end: number;
}

class Truncated extends Error {}

function readVarint(buf: Uint8Array, pos: number, end: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i += 1) {
    if (pos >= end) throw new Truncated();
    const byte = buf[pos] ?? 0;
    pos += 1;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  throw new Truncated();
}

/**
 * Walk the length-delimited fields of a message in buf[start, end); calls
 * `onLen(field, contentStart, contentEnd)` for each. Throws Truncated on
 * anything that is not well-formed protobuf wire format.
 */
function walk(buf: Uint8Array, start: number, end: number, onLen: (field: number, s: number, e: number) => void): void {
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = readVarint(buf, pos, end);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    pos = afterKey;
    switch (wireType) {
      case WIRE_VARINT:
        pos = readVarint(buf, pos, end)[1];
        break;
      case WIRE_I64:
        pos += 8;
        break;
      case WIRE_I32:
        pos += 4;
        break;
      case WIRE_LEN: {
        const [length, contentStart] = readVarint(buf, pos, end);
        const contentEnd = contentStart + length;
        if (contentEnd > end) throw new Truncated();
        onLen(field, contentStart, contentEnd);
        pos = contentEnd;
        break;
      }
      default:
        throw new Truncated(); // groups (3, 4) and reserved types: not ours to interpret
    }
    if (pos > end) throw new Truncated();
  }
}

/** The spans of certificate and body-prefix contents worth cutting, in order. */
function cutSpans(raw: Uint8Array, minBytes: number): Span[] {
  const spans: Span[] = [];
  const keep = (s: number, e: number): void => {
    if (e - s >= minBytes) spans.push({ start: s, end: e });
  };
  walk(raw, 0, raw.length, (field, s, e) => {
    if (field !== MEASUREMENT_OBSERVATIONS) return;
    walk(raw, s, e, (obsField, os, oe) => {
      if (obsField === OBSERVATIONS_TLS) {
        walk(raw, os, oe, (f, fs, fe) => {
          if (f === TLS_PEER_CERTIFICATES) keep(fs, fe);
        });
      } else if (obsField === OBSERVATIONS_HTTP) {
        walk(raw, os, oe, (f, fs, fe) => {
          if (f === HTTP_BODY_PREFIX) keep(fs, fe);
        });
      }
    });
  });
  return spans;
}

function writeVarint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object: a
// third of the cost for the kilobyte-sized fields hashed on every ingest.
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: 'buffer') => Buffer }).hash;

function sha256(data: Uint8Array): Uint8Array {
  return oneShot !== undefined ? oneShot('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}

/**
 * Cut repeated large fields out of an encoded Measurement. Bytes that are not
 * well-formed protobuf are kept whole (format 0): the store never refuses or
 * alters what a probe signed.
 */
export function compactRaw(raw: Uint8Array, minBlobBytes: number = DEFAULT_MIN_BLOB_BYTES): CompactRaw {
  let spans: Span[];
  try {
    spans = cutSpans(raw, minBlobBytes);
  } catch (err) {
    if (!(err instanceof Truncated)) throw err;
    spans = [];
  }
  if (spans.length === 0) {
    const compact = new Uint8Array(raw.length + 1);
    compact[0] = FORMAT_PLAIN;
    compact.set(raw, 1);
    return { compact, blobs: [] };
  }
  const blobs: CutBlob[] = [];
  const header: number[] = [FORMAT_SPLICED];
  writeVarint(header, spans.length);
  let cutBytes = 0;
  for (const span of spans) cutBytes += span.end - span.start;
  // Upper bound: header, per cut two varints (<= 10 bytes each) and a digest, the residual.
  const compact = new Uint8Array(header.length + spans.length * (20 + DIGEST_BYTES) + raw.length - cutBytes);
  compact.set(header, 0);
  let pos = header.length;
  let previousEnd = 0;
  for (const span of spans) {
    const data = raw.subarray(span.start, span.end);
    const digest = sha256(data);
    blobs.push({ sha256: digest, data });
    const pair: number[] = [];
    writeVarint(pair, span.start - previousEnd);
    writeVarint(pair, span.end - span.start);
    compact.set(pair, pos);
    pos += pair.length;
    compact.set(digest, pos);
    pos += DIGEST_BYTES;
    previousEnd = span.end;
  }
  let from = 0;
  for (const span of spans) {
    compact.set(raw.subarray(from, span.start), pos);
    pos += span.start - from;
    from = span.end;
  }
  compact.set(raw.subarray(from), pos);
  pos += raw.length - from;
  return { compact: compact.subarray(0, pos), blobs };
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
    let pos = 1;
    let count: number;
    [count, pos] = readVarint(compact, pos, compact.length);
    const refs: { gap: number; length: number; sha256: Uint8Array }[] = [];
    for (let i = 0; i < count; i += 1) {
      let gap: number;
      let length: number;
      [gap, pos] = readVarint(compact, pos, compact.length);
      [length, pos] = readVarint(compact, pos, compact.length);
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
