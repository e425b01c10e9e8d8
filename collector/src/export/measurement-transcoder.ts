import { isUtf8 } from 'node:buffer';
import { derToPem, idToString, toJsonValue } from '@steppe/shared';
import { ByteWriter, jsonStringBytes } from './byte-writer.js';
import { BYTES_FORM, FIELD_KIND, type FieldPlan, type MessagePlan } from './json-plan.js';

/**
 * Writes a measurement's JSON straight from its encoded bytes, driven by the
 * field tables of json-plan.ts: no decoded message, no `toObject` object, no
 * snake_case copy, no `JSON.stringify` — the cost of `measurementToJson()` on
 * exports of millions of measurements (bench/export/RESULTS.md).
 *
 * The output has exactly the content of `JSON.stringify(measurementToJson(
 * wire.Measurement.decode(raw)))` (a property test compares them), including
 * protobufjs's decoding rules: the last occurrence of a singular field wins,
 * repeated occurrences of a sub-message merge, fields of an unexpected wire
 * type are skipped as unknown, strings must be valid UTF-8. Wherever the bytes
 * do something unusual (groups, malformed varints, invalid UTF-8, a
 * non-16-byte id, a non-finite start time) the transcoder gives up and the
 * caller takes the decode + measurementToJson path, which then produces the
 * same JSON or the same error.
 *
 * Certificates (PEM) and body prefixes (base64) repeat across thousands of
 * measurements: their JSON is cached by content.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
/** protobufjs's `util.recursionLimit`. */
const MAX_DEPTH = 100;
/** Byte fields at least this long go through the content cache (the store's blob threshold). */
const CACHED_BYTES = 96;

const NULL = Buffer.from('null');
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

// Position after the last primitive read; module-level so readers return one number.
let next = 0;

/**
 * A 32-bit varint as protobufjs reads it, bounded by `end`: at most 5 bytes,
 * the 5th at most `maxFifth` (15 for a tag, 7 for a length prefix). -1 where
 * protobufjs would throw.
 */
function readVarint32(b: Uint8Array, pos: number, end: number, maxFifth: number): number {
  if (pos >= end) return -1;
  let c = b[pos] ?? 0;
  if (c < 128) {
    next = pos + 1;
    return c;
  }
  let v = c & 127;
  for (let i = 1; i < 4; i += 1) {
    if (pos + i >= end) return -1;
    c = b[pos + i] ?? 0;
    v |= (c & 127) << (7 * i);
    if (c < 128) {
      next = pos + i + 1;
      return v >>> 0;
    }
  }
  if (pos + 4 >= end) return -1;
  c = b[pos + 4] ?? 0;
  if (c > maxFifth) return -1;
  next = pos + 5;
  return (v | (c << 28)) >>> 0;
}

/** protobufjs Reader#tag. */
function readTag(b: Uint8Array, pos: number, end: number): number {
  return readVarint32(b, pos, end, 15);
}

/** protobufjs Reader#size (a length prefix). */
function readSize(b: Uint8Array, pos: number, end: number): number {
  return readVarint32(b, pos, end, 7);
}

/** End of a varint value as protobufjs's uint32/bool/int64 readers consume it (at most 10 bytes); -1 when they would throw. */
function varintEnd(b: Uint8Array, pos: number, end: number): number {
  for (let i = 0; i < 10; i += 1) {
    if (pos + i >= end) return -1;
    if ((b[pos + i] ?? 0) < 128) return pos + i + 1;
  }
  return -1;
}

/** protobufjs Reader#uint32 on a varint already checked by varintEnd. */
function uint32At(b: Uint8Array, pos: number): number {
  let c = b[pos] ?? 0;
  let v = c & 127;
  if (c < 128) return v;
  c = b[pos + 1] ?? 0;
  v |= (c & 127) << 7;
  if (c < 128) return v >>> 0;
  c = b[pos + 2] ?? 0;
  v |= (c & 127) << 14;
  if (c < 128) return v >>> 0;
  c = b[pos + 3] ?? 0;
  v |= (c & 127) << 21;
  if (c < 128) return v >>> 0;
  c = b[pos + 4] ?? 0;
  return (v | ((c & 15) << 28)) >>> 0;
}

/** protobufjs Reader#bool: true when any 7-bit group is non-zero. */
function boolAt(b: Uint8Array, pos: number, end: number): boolean {
  for (let i = pos; i < end; i += 1) if (((b[i] ?? 0) & 127) !== 0) return true;
  return false;
}

/** protobufjs readLongVarint + LongBits#toNumber (int64/uint64 decoded as numbers). */
function longAt(b: Uint8Array, pos: number, unsigned: boolean): number {
  let lo = 0;
  let hi = 0;
  let i = 0;
  let c = 0;
  for (; i < 4; i += 1) {
    c = b[pos + i] ?? 0;
    lo = (lo | ((c & 127) << (i * 7))) >>> 0;
    if (c < 128) return toNumber(lo, hi, unsigned);
  }
  c = b[pos + 4] ?? 0;
  lo = (lo | ((c & 127) << 28)) >>> 0;
  hi = (hi | ((c & 127) >> 4)) >>> 0;
  if (c < 128) return toNumber(lo, hi, unsigned);
  for (i = 0; i < 5; i += 1) {
    c = b[pos + 5 + i] ?? 0;
    hi = (hi | ((c & 127) << (i * 7 + 3))) >>> 0;
    if (c < 128) break;
  }
  return toNumber(lo, hi, unsigned);
}

function toNumber(lo: number, hi: number, unsigned: boolean): number {
  if (!unsigned && hi >>> 31 !== 0) {
    const l = (~lo + 1) >>> 0;
    let h = ~hi >>> 0;
    if (l === 0) h = (h + 1) >>> 0;
    return -(l + h * 4294967296);
  }
  return lo + hi * 4294967296;
}

/** protobufjs Reader#skipType for an unknown field; -1 for groups and invalid wire types (it would recurse or throw). */
function skip(b: Uint8Array, pos: number, end: number, wireType: number): number {
  switch (wireType) {
    case WIRE_VARINT:
      for (let p = pos; p < end; p += 1) if ((b[p] ?? 0) < 128) return p + 1;
      return -1;
    case WIRE_I64:
      return pos + 8 <= end ? pos + 8 : -1;
    case WIRE_I32:
      return pos + 4 <= end ? pos + 4 : -1;
    case WIRE_LEN: {
      const size = readSize(b, pos, end);
      if (size < 0 || next + size > end) return -1;
      return next + size;
    }
    default:
      return -1;
  }
}

/**
 * Occurrences of the fields of one message being written, by field index,
 * linked in wire order. A field's entry is valid only when stamped with the
 * current generation: starting a message is one increment, not a fill.
 */
class Occurrences {
  readonly first: Int32Array;
  readonly last: Int32Array;
  readonly stamp: Int32Array;
  generation = 0;
  start = new Int32Array(64);
  end = new Int32Array(64);
  link = new Int32Array(64);
  count = 0;

  constructor(maxFields: number) {
    this.first = new Int32Array(maxFields);
    this.last = new Int32Array(maxFields);
    this.stamp = new Int32Array(maxFields);
  }

  reset(): void {
    this.generation += 1;
    if (this.generation === 0x7fffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    this.count = 0;
  }

  /** First occurrence of field `index`, -1 when absent. */
  head(index: number): number {
    return this.stamp[index] === this.generation ? (this.first[index] ?? -1) : -1;
  }

  add(index: number, s: number, e: number): void {
    const k = this.count;
    if (k === this.start.length) this.#grow();
    this.start[k] = s;
    this.end[k] = e;
    this.link[k] = -1;
    if (this.stamp[index] === this.generation) {
      this.link[this.last[index] ?? 0] = k;
    } else {
      this.stamp[index] = this.generation;
      this.first[index] = k;
    }
    this.last[index] = k;
    this.count = k + 1;
  }

  #grow(): void {
    const size = this.start.length * 2;
    const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.start = grow(this.start);
    this.end = grow(this.end);
    this.link = grow(this.link);
  }
}

/** Most contents kept under one hash: bounds the comparisons a crafted collision can cause. */
const MAX_PER_HASH = 4;

interface CachedFragment {
  readonly content: Buffer;
  readonly json: Buffer;
}

/** JSON of large byte fields (certificates, body prefixes) by content; checked byte for byte on every hit. */
class FragmentCache {
  readonly #entries = new Map<number, CachedFragment[]>();
  #bytes = 0;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** A cheap hash: length, form and words from the middle and the end (DER headers are alike; signatures differ). */
  static key(form: number, src: Buffer, s: number, e: number): number {
    const n = e - s;
    const a = src.readInt32LE(s + (n >> 1) - 2);
    const b = src.readInt32LE(e - 4);
    const c = src.readInt32LE(e - 12);
    return (Math.imul(n * 4 + form, 0x9e3779b1) ^ Math.imul(a, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35) ^ c) | 0;
  }

  get(key: number, src: Buffer, s: number, e: number): Buffer | undefined {
    const bucket = this.#entries.get(key);
    if (bucket === undefined) return undefined;
    const n = e - s;
    for (const hit of bucket) {
      if (hit.content.length === n && src.compare(hit.content, 0, n, s, e) === 0) return hit.json;
    }
    return undefined;
  }

  set(key: number, src: Buffer, s: number, e: number, json: Buffer): void {
    const size = e - s + json.length;
    if (this.#bytes + size > this.#maxBytes) {
      this.#entries.clear();
      this.#bytes = 0;
    }
    const entry = { content: Buffer.from(src.subarray(s, e)), json };
    const bucket = this.#entries.get(key);
    if (bucket === undefined) this.#entries.set(key, [entry]);
    else if (bucket.length < MAX_PER_HASH) bucket.push(entry);
    else return; // contents made to collide are not worth more comparisons
    this.#bytes += size;
  }
}

/** Options of a transcoder. */
export interface TranscoderOptions {
  /**
   * Leave out fields holding their default value (proto3's JSON mapping
   * does): empty strings, zeros, false, empty lists, absent sub-messages.
   * Default false: every field is written, as measurementToJson does.
   */
  readonly omitDefaults?: boolean;
  /** Memory for cached certificate / body-prefix JSON (default 32 MiB). */
  readonly cacheBytes?: number;
}

/** What the transcoder remembers of the last measurement it wrote (for the fields measurementToJson adds). */
export interface TranscodedFacts {
  /** `start_time_ms` as decoded (0 when absent). */
  startTimeMs: number;
  /** The probe's analysis: present, verdict, anomaly, confirmed, failure. */
  analysis: boolean;
  verdict: string;
  anomaly: boolean;
  confirmed: boolean;
  failure: string;
}

const CAPTURE_START = 0;
const CAPTURE_VERDICT = 1;
const CAPTURE_ANOMALY = 2;
const CAPTURE_CONFIRMED = 3;
const CAPTURE_FAILURE = 4;

/** Writes Measurement JSON from wire bytes (see the module comment). One per export: not reentrant. */
export class MeasurementTranscoder {
  readonly #plan: MessagePlan;
  readonly #omitDefaults: boolean;
  readonly #levels: Occurrences[] = [];
  readonly #maxFields: number;
  readonly #cache: FragmentCache;
  readonly #analysisField: FieldPlan | undefined;
  #src: Buffer = Buffer.alloc(0);
  #out: ByteWriter = new ByteWriter(16);
  #overrides: readonly (Uint8Array | undefined)[] | undefined;
  readonly #times = new IsoTimes();
  /** Facts of the last measurement written. */
  readonly facts: TranscodedFacts = { startTimeMs: 0, analysis: false, verdict: '', anomaly: false, confirmed: false, failure: '' };

  constructor(plan: MessagePlan, options: TranscoderOptions = {}) {
    this.#plan = plan;
    this.#omitDefaults = options.omitDefaults ?? false;
    this.#cache = new FragmentCache(options.cacheBytes ?? 32 * 2 ** 20);
    let max = 0;
    const seen = new Set<MessagePlan>();
    const visit = (p: MessagePlan): void => {
      if (seen.has(p)) return;
      seen.add(p);
      max = Math.max(max, p.fields.length);
      for (const f of p.fields) if (f.message !== undefined) visit(f.message);
    };
    visit(plan);
    this.#maxFields = max;
    // Slots for the values measurementToJson reads from the decoded message.
    const start = plan.fields.find((f) => f.key === 'start_time_ms' && f.kind === FIELD_KIND.int64);
    if (start !== undefined) start.capture = CAPTURE_START;
    this.#analysisField = plan.fields.find((f) => f.key === 'analysis' && f.kind === FIELD_KIND.message && !f.repeated);
    for (const f of this.#analysisField?.message?.fields ?? []) {
      if (f.key === 'verdict' && f.kind === FIELD_KIND.string) f.capture = CAPTURE_VERDICT;
      if (f.key === 'anomaly' && f.kind === FIELD_KIND.bool) f.capture = CAPTURE_ANOMALY;
      if (f.key === 'confirmed' && f.kind === FIELD_KIND.bool) f.capture = CAPTURE_CONFIRMED;
      if (f.key === 'failure' && f.kind === FIELD_KIND.string) f.capture = CAPTURE_FAILURE;
    }
  }

  /** Index of a top-level field by JSON key (for `overrides`), -1 when absent. */
  rootFieldIndex(key: string): number {
    return this.#plan.fields.findIndex((f) => f.key === key);
  }

  /**
   * Write `{` and the measurement's members, without the closing brace (the
   * caller appends its own fields). `overrides[i]`, when set, is written as
   * the JSON value of top-level field i instead of the wire's. Returns false
   * when the bytes need the reference path; the caller then discards what
   * was written after its own mark.
   */
  writeMembers(out: ByteWriter, raw: Uint8Array, overrides?: readonly (Uint8Array | undefined)[]): boolean {
    this.#src = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    this.#out = out;
    this.#overrides = overrides;
    const f = this.facts;
    f.startTimeMs = 0;
    f.analysis = false;
    f.verdict = '';
    f.anomaly = false;
    f.confirmed = false;
    f.failure = '';
    const level = this.#level(0);
    level.reset();
    if (!this.#scan(this.#plan, level, 0, this.#src.length)) return false;
    return this.#members(this.#plan, level, 0, true);
  }

  /**
   * The whole of `JSON.stringify(measurementToJson(decoded))` as bytes.
   * False when the reference path is needed (nothing usable was written).
   */
  writeMeasurementJson(out: ByteWriter, raw: Uint8Array): boolean {
    const mark = out.pos;
    if (!this.writeMembers(out, raw)) {
      out.pos = mark;
      return false;
    }
    const f = this.facts;
    const start = startTimeJson(f.startTimeMs, this.#times);
    if (start === undefined) {
      out.pos = mark;
      return false;
    }
    out.ascii(',"verdict":');
    out.bytes(jsonStringBytes(f.analysis ? f.verdict : ''));
    out.ascii(',"anomaly":');
    out.bytes(f.anomaly ? TRUE : FALSE);
    out.ascii(',"confirmed":');
    out.bytes(f.confirmed ? TRUE : FALSE);
    out.ascii(',"failure":');
    out.bytes(f.failure === '' ? NULL : jsonStringBytes(f.failure));
    out.ascii(',"start_time":');
    out.ascii(start);
    out.ascii('}');
    return true;
  }

  #level(depth: number): Occurrences {
    let level = this.#levels[depth];
    if (level === undefined) {
      level = new Occurrences(this.#maxFields);
      this.#levels[depth] = level;
    }
    return level;
  }

  /** Record the fields of one wire range of a message; false when protobufjs would throw (or recurse into a group). */
  #scan(plan: MessagePlan, level: Occurrences, start: number, end: number): boolean {
    const b = this.#src;
    const index = plan.indexByNumber;
    const fields = plan.fields;
    let pos = start;
    while (pos < end) {
      const tag = readTag(b, pos, end);
      if (tag < 0) return false;
      pos = next;
      const number = tag >>> 3;
      const wireType = tag & 7;
      if (number === 0) return false;
      const i = number < index.length ? (index[number] ?? -1) : -1;
      const field = i >= 0 ? fields[i] : undefined;
      if (field === undefined || field.wireType !== wireType) {
        pos = skip(b, pos, end, wireType);
        if (pos < 0) return false;
        continue;
      }
      switch (wireType) {
        case WIRE_VARINT: {
          const e = varintEnd(b, pos, end);
          if (e < 0) return false;
          level.add(i, pos, e);
          pos = e;
          break;
        }
        case WIRE_LEN: {
          const size = readSize(b, pos, end);
          if (size < 0) return false;
          const s = next;
          const e = s + size;
          if (e > end) return false;
          level.add(i, s, e);
          pos = e;
          break;
        }
        case WIRE_I64:
          if (pos + 8 > end) return false;
          level.add(i, pos, pos + 8);
          pos += 8;
          break;
        default:
          if (pos + 4 > end) return false;
          level.add(i, pos, pos + 4);
          pos += 4;
      }
    }
    return true;
  }

  /** Write `{` and the members of a scanned message (closing brace unless `open`). */
  #members(plan: MessagePlan, level: Occurrences, depth: number, open: boolean): boolean {
    const out = this.#out;
    const fields = plan.fields;
    const omit = this.#omitDefaults;
    const overrides = depth === 0 ? this.#overrides : undefined;
    out.byte(0x7b);
    let first = true;
    for (let i = 0; i < fields.length; i += 1) {
      const f = fields[i];
      if (f === undefined) continue;
      const override = overrides?.[i];
      if (override !== undefined) {
        out.fragment(first ? f.keyFragment : f.commaKeyFragment);
        out.bytes(override);
        first = false;
        continue;
      }
      const head = level.head(i);
      if (head < 0) {
        if (f.bytesForm === BYTES_FORM.uuid && f.kind === FIELD_KIND.bytes) return false; // measurementToJson throws on a missing id
        if (omit) continue;
        out.fragment(first ? f.defaultMember : f.commaDefaultMember);
        first = false;
        continue;
      }
      let ok: boolean;
      if (f.repeated) {
        out.fragment(first ? f.keyFragment : f.commaKeyFragment);
        ok = this.#list(f, level, head, depth);
      } else if (f.kind === FIELD_KIND.message) {
        out.fragment(first ? f.keyFragment : f.commaKeyFragment);
        ok = this.#message(f, level, head, depth);
      } else if (f.kind === FIELD_KIND.stringMap) {
        out.fragment(first ? f.keyFragment : f.commaKeyFragment);
        ok = this.#map(level, head);
      } else {
        const k = level.last[i] ?? head;
        // The last occurrence wins, but protobufjs reads (and UTF-8-checks) every one.
        if (f.kind === FIELD_KIND.string && k !== head && !this.#overriddenStringsValid(level, head, k)) return false;
        const s = level.start[k] ?? 0;
        const e = level.end[k] ?? 0;
        if (omit && this.#isDefault(f, s, e)) continue;
        out.fragment(first ? f.keyFragment : f.commaKeyFragment);
        ok = this.#scalar(f, s, e);
      }
      if (!ok) return false;
      first = false;
    }
    if (!open) out.byte(0x7d);
    return true;
  }

  /** Whether the occurrences of a singular string field before its last (`head` up to `last`) are valid UTF-8. */
  #overriddenStringsValid(level: Occurrences, head: number, last: number): boolean {
    for (let k = head; k >= 0 && k !== last; k = level.link[k] ?? -1) {
      if (!isUtf8(this.#src.subarray(level.start[k] ?? 0, level.end[k] ?? 0))) return false;
    }
    return true;
  }

  #isDefault(f: FieldPlan, s: number, e: number): boolean {
    const b = this.#src;
    switch (f.kind) {
      case FIELD_KIND.string:
      case FIELD_KIND.bytes:
        return e === s && f.bytesForm !== BYTES_FORM.uuid;
      case FIELD_KIND.bool:
        return !boolAt(b, s, e);
      case FIELD_KIND.double:
        return b.readDoubleLE(s) === 0;
      case FIELD_KIND.float:
        return b.readFloatLE(s) === 0;
      case FIELD_KIND.uint32:
      case FIELD_KIND.int32:
      case FIELD_KIND.enum:
        return uint32At(b, s) === 0;
      case FIELD_KIND.uint64:
      case FIELD_KIND.int64:
        return longAt(b, s, true) === 0;
      default:
        return false;
    }
  }

  #list(f: FieldPlan, level: Occurrences, head: number, depth: number): boolean {
    const out = this.#out;
    out.byte(0x5b);
    for (let k = head; k >= 0; k = level.link[k] ?? -1) {
      if (k !== head) out.byte(0x2c);
      const s = level.start[k] ?? 0;
      const e = level.end[k] ?? 0;
      if (f.kind === FIELD_KIND.message) {
        const plan = f.message;
        if (plan === undefined || depth + 1 > MAX_DEPTH) return false;
        const child = this.#level(depth + 1);
        child.reset();
        if (!this.#scan(plan, child, s, e) || !this.#members(plan, child, depth + 1, false)) return false;
      } else if (!this.#scalar(f, s, e)) {
        return false;
      }
    }
    out.byte(0x5d);
    return true;
  }

  /** A singular sub-message: every occurrence merges into one (protobufjs decodes into the same object). */
  #message(f: FieldPlan, level: Occurrences, head: number, depth: number): boolean {
    const plan = f.message;
    if (plan === undefined || depth + 1 > MAX_DEPTH) return false;
    const child = this.#level(depth + 1);
    child.reset();
    for (let k = head; k >= 0; k = level.link[k] ?? -1) {
      if (!this.#scan(plan, child, level.start[k] ?? 0, level.end[k] ?? 0)) return false;
    }
    if (f === this.#analysisField) this.facts.analysis = true;
    return this.#members(plan, child, depth + 1, false);
  }

  /** map<string, string>: rebuilt as protobufjs does (last value wins, `__proto__` kept as a key), then measurementToJson's conversion. */
  #map(level: Occurrences, head: number): boolean {
    const b = this.#src;
    const object: Record<string, string> = {};
    for (let k = head; k >= 0; k = level.link[k] ?? -1) {
      const end = level.end[k] ?? 0;
      let pos = level.start[k] ?? 0;
      let key = '';
      let value = '';
      while (pos < end) {
        const tag = readTag(b, pos, end);
        if (tag < 0 || tag >>> 3 === 0) return false;
        pos = next;
        const wireType = tag & 7;
        const number = tag >>> 3;
        if ((number === 1 || number === 2) && wireType === WIRE_LEN) {
          const size = readSize(b, pos, end);
          if (size < 0 || next + size > end) return false;
          const text = strictUtf8(b, next, next + size);
          if (text === undefined) return false;
          if (number === 1) key = text;
          else value = text;
          pos = next + size;
        } else {
          pos = skip(b, pos, end, wireType);
          if (pos < 0) return false;
        }
      }
      if (key === '__proto__' && !Object.hasOwn(object, key)) Object.defineProperty(object, key, { enumerable: true, configurable: true, writable: true });
      object[key] = value;
    }
    this.#out.utf8(JSON.stringify(toJsonValue(object, 'annotations')));
    return true;
  }

  #scalar(f: FieldPlan, s: number, e: number): boolean {
    const b = this.#src;
    const out = this.#out;
    switch (f.kind) {
      case FIELD_KIND.string: {
        if (!this.#string(s, e)) return false;
        if (f.capture === CAPTURE_VERDICT) this.facts.verdict = b.toString('utf8', s, e);
        else if (f.capture === CAPTURE_FAILURE) this.facts.failure = b.toString('utf8', s, e);
        return true;
      }
      case FIELD_KIND.bytes:
        return this.#bytes(f, s, e);
      case FIELD_KIND.bool: {
        const v = boolAt(b, s, e);
        out.bytes(v ? TRUE : FALSE);
        if (f.capture === CAPTURE_ANOMALY) this.facts.anomaly = v;
        else if (f.capture === CAPTURE_CONFIRMED) this.facts.confirmed = v;
        return true;
      }
      case FIELD_KIND.double:
        number(out, b.readDoubleLE(s));
        return true;
      case FIELD_KIND.float:
        number(out, b.readFloatLE(s));
        return true;
      case FIELD_KIND.uint32:
        out.ascii(String(uint32At(b, s)));
        return true;
      case FIELD_KIND.int32:
        out.ascii(String(uint32At(b, s) | 0));
        return true;
      case FIELD_KIND.uint64:
        out.ascii(String(longAt(b, s, true)));
        return true;
      case FIELD_KIND.int64: {
        const v = longAt(b, s, false);
        out.ascii(String(v));
        if (f.capture === CAPTURE_START) this.facts.startTimeMs = v;
        return true;
      }
      case FIELD_KIND.enum: {
        const v = uint32At(b, s) | 0;
        const name = f.enumNames?.get(v);
        if (name !== undefined) out.bytes(name);
        else out.ascii(String(v));
        return true;
      }
      default:
        return false;
    }
  }

  /** A string field's bytes as a JSON string, escaped as JSON.stringify does; false on invalid UTF-8. */
  #string(s: number, e: number): boolean {
    const src = this.#src;
    const out = this.#out;
    out.ensure(2 + 6 * (e - s));
    const buf = out.buf;
    let p = out.pos;
    let high = false;
    buf[p++] = 0x22;
    for (let i = s; i < e; i += 1) {
      const c = src[i] ?? 0;
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) {
        buf[p++] = c;
        if (c >= 0x80) high = true;
      } else {
        p = escape(buf, p, c);
      }
    }
    buf[p++] = 0x22;
    if (high && !isUtf8(src.subarray(s, e))) return false;
    out.pos = p;
    return true;
  }

  #bytes(f: FieldPlan, s: number, e: number): boolean {
    const src = this.#src;
    const out = this.#out;
    const form = f.bytesForm;
    if (form === BYTES_FORM.uuid) {
      if (e - s !== 16) return false;
      out.byte(0x22);
      out.ascii(idToString(src.subarray(s, e)));
      out.byte(0x22);
      return true;
    }
    if (form === BYTES_FORM.hex) {
      out.byte(0x22);
      out.ascii(src.toString('hex', s, e));
      out.byte(0x22);
      return true;
    }
    if (e - s >= CACHED_BYTES) {
      const key = FragmentCache.key(form, src, s, e);
      let json = this.#cache.get(key, src, s, e);
      if (json === undefined) {
        json = Buffer.from(form === BYTES_FORM.pem ? JSON.stringify(derToPem(src.subarray(s, e))) : `"${src.toString('base64', s, e)}"`, 'latin1');
        this.#cache.set(key, src, s, e, json);
      }
      out.bytes(json);
      return true;
    }
    if (form === BYTES_FORM.pem) {
      out.ascii(JSON.stringify(derToPem(src.subarray(s, e))));
      return true;
    }
    out.byte(0x22);
    out.ascii(src.toString('base64', s, e));
    out.byte(0x22);
    return true;
  }
}

const HEX = '0123456789abcdef';

/** JSON.stringify's escape of a control character, a quote or a backslash. */
function escape(buf: Buffer, p: number, c: number): number {
  buf[p++] = 0x5c;
  switch (c) {
    case 0x22: buf[p++] = 0x22; return p;
    case 0x5c: buf[p++] = 0x5c; return p;
    case 0x08: buf[p++] = 0x62; return p;
    case 0x09: buf[p++] = 0x74; return p;
    case 0x0a: buf[p++] = 0x6e; return p;
    case 0x0c: buf[p++] = 0x66; return p;
    case 0x0d: buf[p++] = 0x72; return p;
    default:
      buf[p++] = 0x75;
      buf[p++] = 0x30;
      buf[p++] = 0x30;
      buf[p++] = HEX.charCodeAt(c >> 4);
      buf[p++] = HEX.charCodeAt(c & 15);
      return p;
  }
}

/** A number as JSON.stringify writes it (non-finite values become null). */
function number(out: ByteWriter, v: number): void {
  if (Number.isFinite(v)) out.ascii(String(v));
  else out.bytes(NULL);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** protobufjs's stringVerify: strict UTF-8, a byte-order mark kept. */
function strictUtf8(b: Buffer, s: number, e: number): string | undefined {
  try {
    return STRICT_UTF8.decode(b.subarray(s, e));
  } catch {
    return undefined;
  }
}

/** `new Date(ms).toISOString()`, undefined where it throws. */
export function isoTime(ms: number): string | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * `new Date(ms).toISOString()` for times that come in order: the text up to
 * the minute is kept, seconds and milliseconds are appended (a Date and its
 * formatting cost more than the rest of a line's numbers).
 */
export class IsoTimes {
  #minute = Number.NaN;
  #prefix = '';

  /** The ISO 8601 text of `ms`, undefined where Date throws. */
  iso(ms: number): string | undefined {
    const minute = Math.floor(ms / 60_000);
    if (minute !== this.#minute) {
      const full = isoTime(ms);
      if (full === undefined) return undefined;
      this.#minute = minute;
      this.#prefix = full.slice(0, full.length - 7); // "…THH:MM:" before "SS.mmmZ"
      return full;
    }
    const rest = ms - minute * 60_000;
    const sec = Math.floor(rest / 1000);
    const milli = rest - sec * 1000;
    return `${this.#prefix}${sec < 10 ? '0' : ''}${sec}.${milli < 100 ? (milli < 10 ? '00' : '0') : ''}${milli}Z`;
  }
}

/**
 * `start_time` as measurementToJson writes it: null for an absent (0)
 * `start_time_ms`, else `new Date(ms).toISOString()` as JSON text;
 * undefined where Date throws (the reference path then raises the error).
 */
export function startTimeJson(ms: number, times?: IsoTimes): string | undefined {
  if (ms === 0) return 'null';
  const iso = times === undefined ? isoTime(ms) : times.iso(ms);
  return iso === undefined ? undefined : `"${iso}"`;
}
