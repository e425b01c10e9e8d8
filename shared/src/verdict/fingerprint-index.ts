import type { Fingerprint } from './fingerprints.js';

/**
 * A pre-filter for matching many `contains` body fingerprints against one
 * body. Testing OONI's ~1,300 body patterns one `includes()` at a time costs
 * about 1 ms per 4 KiB body; instead each pattern is filed under one of its
 * 4-character substrings (the rarest among all patterns, so buckets stay
 * small), the body is scanned once, and only the patterns whose substring
 * occurs in it are tested, by the same `includes()`. A pattern can only
 * occur in a body that contains each of its substrings, so the candidates
 * always include every match: results are exactly those of testing every
 * pattern. Every other fingerprint (prefix, full, regexp, shorter patterns,
 * headers) is tested directly, as before.
 */
export interface FingerprintIndex {
  /** The list the index was built from, element by element, to detect a changed list. */
  readonly source: readonly Fingerprint[];
  /** Gram key → positions in `source` of the `contains` body fingerprints filed under it. */
  readonly byGram: ReadonlyMap<number, readonly number[]>;
  /** Positions in `source` of body fingerprints tested directly. */
  readonly bodyDirect: readonly number[];
  /** Lowercase header name → positions in `source` of its header fingerprints. */
  readonly byHeader: ReadonlyMap<string, readonly number[]>;
  /** Slot `key & FILTER_MASK` is 1 when some key of `byGram` falls in it. */
  readonly filter: Uint8Array;
}

/** Length of the substrings patterns are filed under (gramKey reads exactly this many). */
export const GRAM_LENGTH = 4;

/** Lists shorter than this are matched directly: building an index would cost more than it saves. */
export const MIN_INDEXED_FINGERPRINTS = 32;

/**
 * A hash of the GRAM_LENGTH UTF-16 code units at `at`; collisions only add
 * candidates. Kept within 30 bits so V8 stores it as a small integer (a
 * Map keyed by heap numbers is several times slower).
 */
function gramKey(text: string, at: number): number {
  return hash4(text.charCodeAt(at), text.charCodeAt(at + 1), text.charCodeAt(at + 2), text.charCodeAt(at + 3));
}

function hash4(a: number, b: number, c: number, d: number): number {
  return (Math.imul(Math.imul(Math.imul(a, 0x01000193) ^ b, 0x01000193) ^ c, 0x01000193) ^ d) & 0x3fffffff;
}

// A one-bit-per-slot summary of the gram keys in use, tested before the Map:
// most positions of a body hold no pattern's gram at all.
const FILTER_MASK = 0xffff;

/** Build the index of `fingerprints` (positions refer to that list). */
export function buildFingerprintIndex(fingerprints: readonly Fingerprint[]): FingerprintIndex {
  const grams = new Map<number, number>();
  const indexed: number[] = [];
  const bodyDirect: number[] = [];
  const byHeader = new Map<string, number[]>();
  fingerprints.forEach((fp, i) => {
    if (fp.location === 'header') {
      const list = byHeader.get(fp.headerName) ?? [];
      list.push(i);
      byHeader.set(fp.headerName, list);
    } else if (fp.location === 'body') {
      if (fp.patternType === 'contains' && fp.pattern.length >= GRAM_LENGTH) indexed.push(i);
      else bodyDirect.push(i);
    }
  });
  // How many patterns share each gram: a pattern is filed under its rarest one.
  for (const i of indexed) {
    const pattern = fingerprints[i]?.pattern ?? '';
    const seen = new Set<number>();
    for (let at = 0; at + GRAM_LENGTH <= pattern.length; at += 1) seen.add(gramKey(pattern, at));
    for (const key of seen) grams.set(key, (grams.get(key) ?? 0) + 1);
  }
  const byGram = new Map<number, number[]>();
  for (const i of indexed) {
    const pattern = fingerprints[i]?.pattern ?? '';
    let best = gramKey(pattern, 0);
    let bestCount = grams.get(best) ?? 0;
    for (let at = 1; at + GRAM_LENGTH <= pattern.length; at += 1) {
      const key = gramKey(pattern, at);
      const count = grams.get(key) ?? 0;
      if (count < bestCount) {
        best = key;
        bestCount = count;
      }
    }
    const bucket = byGram.get(best) ?? [];
    bucket.push(i);
    byGram.set(best, bucket);
  }
  const filter = new Uint8Array(FILTER_MASK + 1);
  for (const key of byGram.keys()) filter[key & FILTER_MASK] = 1;
  return { source: [...fingerprints], byGram, bodyDirect, byHeader, filter };
}

/** True when `index` was built from exactly these fingerprints, in this order. */
export function indexMatches(index: FingerprintIndex, fingerprints: readonly Fingerprint[]): boolean {
  if (index.source.length !== fingerprints.length) return false;
  for (let i = 0; i < fingerprints.length; i += 1) if (index.source[i] !== fingerprints[i]) return false;
  return true;
}

/**
 * Positions of the body fingerprints worth testing against `body`: every
 * directly-tested one, and the indexed ones whose gram occurs in `body`.
 * Unordered; may repeat none.
 */
export function bodyCandidates(index: FingerprintIndex, body: string): number[] {
  const out = [...index.bodyDirect];
  if (body.length < GRAM_LENGTH || index.byGram.size === 0) return out;
  const { byGram, filter } = index;
  const taken = new Set<number>();
  // The body's grams, one code unit read per position (the same hash as gramKey).
  let a = body.charCodeAt(0);
  let b = body.charCodeAt(1);
  let c = body.charCodeAt(2);
  for (let at = GRAM_LENGTH - 1; at < body.length; at += 1) {
    const d = body.charCodeAt(at);
    const key = hash4(a, b, c, d);
    a = b;
    b = c;
    c = d;
    if (filter[key & FILTER_MASK] === 0 || taken.has(key)) continue;
    const bucket = byGram.get(key);
    if (bucket === undefined) continue;
    taken.add(key);
    for (const i of bucket) out.push(i);
  }
  return out;
}
