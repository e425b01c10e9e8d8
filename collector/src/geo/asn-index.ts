import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, SteppeError, ipToBytes } from '@steppe/shared';
import { splitCsvLine } from './networks-file.js';

/** An AS an address range belongs to. */
export interface AsnRecord {
  readonly asn: number;
  readonly name: string;
}

/** Where the ASN CSVs come from (the `-num` files of @ip-location-db/asn). */
export interface AsnSources {
  /** `asn-ipv4-num.csv`: start,end (decimal u32),asn,name. */
  readonly ipv4Csv: string;
  /** `asn-ipv6-num.csv`: start,end (decimal u128),asn,name. */
  readonly ipv6Csv: string;
}

const MAGIC = 'STASNIX1';
const FORMAT_VERSION = 1;

/**
 * A compact, sorted range index of IP → ASN built from the CSVs of
 * @ip-location-db/asn (the registry ships only CSV for ASNs). Ranges are
 * kept in parallel typed arrays (IPv4: one u32 per bound; IPv6: four u32
 * words per bound, big-endian order) with names deduplicated into one
 * table, and looked up by binary search. Built once, then cached as one
 * binary file keyed by the source files' size and mtime (docs/design/dd-002).
 */
export class AsnIndex {
  readonly #starts4: Uint32Array;
  readonly #ends4: Uint32Array;
  readonly #asn4: Uint32Array;
  readonly #name4: Uint32Array;
  readonly #starts6: Uint32Array;
  readonly #ends6: Uint32Array;
  readonly #asn6: Uint32Array;
  readonly #name6: Uint32Array;
  readonly #names: readonly string[];

  private constructor(parts: IndexParts) {
    this.#starts4 = parts.starts4;
    this.#ends4 = parts.ends4;
    this.#asn4 = parts.asn4;
    this.#name4 = parts.name4;
    this.#starts6 = parts.starts6;
    this.#ends6 = parts.ends6;
    this.#asn6 = parts.asn6;
    this.#name6 = parts.name6;
    this.#names = parts.names;
  }

  /** Number of IPv4 and IPv6 ranges. */
  get size(): { ipv4: number; ipv6: number } {
    return { ipv4: this.#starts4.length, ipv6: this.#asn6.length };
  }

  /**
   * Load the cached index from `cacheDir` if it matches the sources, or
   * build it from the CSVs and write the cache (atomically). Without a
   * cache directory the index is built in memory.
   */
  static load(sources: AsnSources, cacheDir?: string): AsnIndex {
    const key = sourceKey(sources);
    if (cacheDir !== undefined) {
      const file = join(cacheDir, `asn-index-${key.slice(0, 16)}.bin`);
      const cached = readCache(file, key);
      if (cached !== undefined) return new AsnIndex(cached);
      const parts = build(sources);
      writeCache(cacheDir, file, key, parts);
      return new AsnIndex(parts);
    }
    return new AsnIndex(build(sources));
  }

  /** Build from in-memory CSV text (tests). */
  static fromCsv(ipv4Csv: string, ipv6Csv: string): AsnIndex {
    return new AsnIndex(buildFromText(ipv4Csv, ipv6Csv));
  }

  /** The AS holding `ip`, or undefined. IPv4-mapped IPv6 addresses are looked up as IPv4. */
  lookup(ip: string): AsnRecord | undefined {
    const bytes = ipToBytes(ip);
    if (bytes === undefined) return undefined;
    if (bytes.length === 4 || isV4Mapped(bytes)) {
      const b = bytes.length === 4 ? bytes : bytes.subarray(12);
      const v = (((b[0] ?? 0) << 24) >>> 0) + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0);
      const i = upperBound4(this.#starts4, v) - 1;
      if (i < 0 || v > (this.#ends4[i] ?? 0)) return undefined;
      return { asn: this.#asn4[i] ?? 0, name: this.#names[this.#name4[i] ?? 0] ?? '' };
    }
    const w = words(bytes);
    const i = upperBound6(this.#starts6, w) - 1;
    if (i < 0 || compare6(w, this.#ends6, i) > 0) return undefined;
    return { asn: this.#asn6[i] ?? 0, name: this.#names[this.#name6[i] ?? 0] ?? '' };
  }
}

interface IndexParts {
  starts4: Uint32Array;
  ends4: Uint32Array;
  asn4: Uint32Array;
  name4: Uint32Array;
  starts6: Uint32Array;
  ends6: Uint32Array;
  asn6: Uint32Array;
  name6: Uint32Array;
  names: string[];
}

function sourceKey(sources: AsnSources): string {
  const h = createHash('sha256').update(`${MAGIC}/${FORMAT_VERSION}`);
  for (const path of [sources.ipv4Csv, sources.ipv6Csv]) {
    try {
      const st = statSync(path);
      h.update(`${path}\0${st.size}\0${st.mtimeMs}\0`);
    } catch (cause) {
      throw new ConfigError('geo', `ASN database ${path} cannot be read (${cause instanceof Error ? cause.message : String(cause)}); is @ip-location-db/asn installed?`, { cause });
    }
  }
  return h.digest('hex');
}

function build(sources: AsnSources): IndexParts {
  return buildFromText(readFileSync(sources.ipv4Csv, 'utf8'), readFileSync(sources.ipv6Csv, 'utf8'));
}

function buildFromText(v4: string, v6: string): IndexParts {
  const nameIds = new Map<string, number>();
  const names: string[] = [];
  const nameId = (name: string): number => {
    let id = nameIds.get(name);
    if (id === undefined) {
      id = names.length;
      names.push(name);
      nameIds.set(name, id);
    }
    return id;
  };

  const rows4: Array<[number, number, number, number]> = [];
  forEachRow(v4, 'asn-ipv4-num.csv', (start, end, asn, name, where) => {
    const s = Number(start);
    const e = Number(end);
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > 0xffffffff || s > e) throw new ConfigError('geo', `${where}: bad IPv4 range ${start}-${end}`);
    rows4.push([s, e, asn, nameId(name)]);
  });
  rows4.sort((a, b) => a[0] - b[0]);
  const starts4 = new Uint32Array(rows4.length);
  const ends4 = new Uint32Array(rows4.length);
  const asn4 = new Uint32Array(rows4.length);
  const name4 = new Uint32Array(rows4.length);
  rows4.forEach((r, i) => {
    starts4[i] = r[0];
    ends4[i] = r[1];
    asn4[i] = r[2];
    name4[i] = r[3];
  });

  const rows6: Array<{ s: bigint; e: bigint; asn: number; name: number }> = [];
  forEachRow(v6, 'asn-ipv6-num.csv', (start, end, asn, name, where) => {
    let s: bigint;
    let e: bigint;
    try {
      s = BigInt(start);
      e = BigInt(end);
    } catch {
      throw new ConfigError('geo', `${where}: bad IPv6 range ${start}-${end}`);
    }
    if (s < 0n || e >= 1n << 128n || s > e) throw new ConfigError('geo', `${where}: bad IPv6 range ${start}-${end}`);
    rows6.push({ s, e, asn, name: nameId(name) });
  });
  rows6.sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  const starts6 = new Uint32Array(rows6.length * 4);
  const ends6 = new Uint32Array(rows6.length * 4);
  const asn6 = new Uint32Array(rows6.length);
  const name6 = new Uint32Array(rows6.length);
  rows6.forEach((r, i) => {
    putWords(starts6, i, r.s);
    putWords(ends6, i, r.e);
    asn6[i] = r.asn;
    name6[i] = r.name;
  });
  return { starts4, ends4, asn4, name4, starts6, ends6, asn6, name6, names };
}

function forEachRow(text: string, file: string, row: (start: string, end: string, asn: number, name: string, where: string) => void): void {
  let lineNo = 0;
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1) nl = text.length;
    const line = text.slice(pos, nl).replace(/\r$/, '');
    pos = nl + 1;
    lineNo += 1;
    if (line.length === 0) continue;
    const where = `${file}: line ${lineNo}`;
    // Fast path: the name is unquoted (most rows).
    const fields = line.includes('"') ? splitCsvLine(line, where) : line.split(',');
    const [start, end, asnText] = fields;
    const name = fields.slice(3).join(',');
    const asn = Number(asnText);
    if (start === undefined || end === undefined || !Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) {
      throw new ConfigError('geo', `${where}: expected start,end,asn,name`);
    }
    row(start, end, asn, name, where);
  }
}

function putWords(target: Uint32Array, index: number, value: bigint): void {
  for (let k = 0; k < 4; k += 1) target[index * 4 + k] = Number((value >> BigInt(32 * (3 - k))) & 0xffffffffn);
}

function words(bytes: Uint8Array): [number, number, number, number] {
  const w = (o: number): number => (((bytes[o] ?? 0) << 24) >>> 0) + ((bytes[o + 1] ?? 0) << 16) + ((bytes[o + 2] ?? 0) << 8) + (bytes[o + 3] ?? 0);
  return [w(0), w(4), w(8), w(12)];
}

function compare6(w: readonly number[], arr: Uint32Array, i: number): number {
  for (let k = 0; k < 4; k += 1) {
    const a = w[k] ?? 0;
    const b = arr[i * 4 + k] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

/** First index whose start is > v. */
function upperBound4(starts: Uint32Array, v: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((starts[mid] ?? 0) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound6(starts: Uint32Array, w: readonly number[]): number {
  let lo = 0;
  let hi = starts.length / 4;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare6(w, starts, mid) >= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false;
  for (let i = 0; i < 10; i += 1) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

// Cache file: MAGIC, u32 version, 64-byte hex source key, u32 counts, then the
// typed arrays (little-endian, as this machine wrote them: the cache is local),
// then the names as one JSON array.
function writeCache(dir: string, file: string, key: string, p: IndexParts): void {
  const names = Buffer.from(JSON.stringify(p.names), 'utf8');
  const head = Buffer.alloc(8 + 4 + 64 + 12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(FORMAT_VERSION, 8);
  head.write(key, 12, 'latin1');
  head.writeUInt32LE(p.asn4.length, 76);
  head.writeUInt32LE(p.asn6.length, 80);
  head.writeUInt32LE(names.length, 84);
  const arrays = [p.starts4, p.ends4, p.asn4, p.name4, p.starts6, p.ends6, p.asn6, p.name6];
  const tmp = join(dir, `.asn-index-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, head);
      for (const a of arrays) writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      writeSync(fd, names);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (cause) {
    // A cache we cannot write only costs a rebuild next start.
    void cause;
  }
}

function readCache(file: string, key: string): IndexParts | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  try {
    if (buf.length < 88 || buf.toString('latin1', 0, 8) !== MAGIC || buf.readUInt32LE(8) !== FORMAT_VERSION || buf.toString('latin1', 12, 76) !== key) return undefined;
    const n4 = buf.readUInt32LE(76);
    const n6 = buf.readUInt32LE(80);
    const namesLen = buf.readUInt32LE(84);
    let off = 88;
    const take = (count: number): Uint32Array => {
      const bytes = count * 4;
      if (off + bytes > buf.length) throw new SteppeError('STEPPE_ERR_INTERNAL', 'truncated ASN index cache');
      const out = new Uint32Array(count);
      new Uint8Array(out.buffer).set(buf.subarray(off, off + bytes));
      off += bytes;
      return out;
    };
    const parts: IndexParts = {
      starts4: take(n4), ends4: take(n4), asn4: take(n4), name4: take(n4),
      starts6: take(n6 * 4), ends6: take(n6 * 4), asn6: take(n6), name6: take(n6),
      names: [],
    };
    if (off + namesLen !== buf.length) return undefined;
    const names: unknown = JSON.parse(buf.toString('utf8', off, off + namesLen));
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return undefined;
    parts.names = names;
    return parts;
  } catch {
    return undefined; // a corrupt cache is rebuilt
  }
}
