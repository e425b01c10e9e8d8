import { randomFillSync } from 'node:crypto';
import { InvalidArgumentError } from './errors.js';

/** Length in bytes of a measurement id (a UUIDv7). */
export const ID_BYTES = 16;

let lastMs = -1;
let lastCounter = 0;

/**
 * A new UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits.
 * Ids made in the same millisecond by this process stay ordered: the 12-bit
 * `rand_a` field is used as a counter seeded randomly (RFC 9562 §6.2, method 1).
 */
export function newId(nowMs: number = Date.now()): Uint8Array {
  if (!Number.isInteger(nowMs) || nowMs < 0 || nowMs >= 2 ** 48) {
    throw new InvalidArgumentError(`newId: nowMs must be an integer millisecond timestamp, got ${nowMs}`);
  }
  const id = new Uint8Array(ID_BYTES);
  randomFillSync(id);
  let counter: number;
  if (nowMs === lastMs && lastCounter < 0xfff) {
    counter = lastCounter + 1;
  } else {
    counter = ((id[6] ?? 0) << 4 | (id[7] ?? 0) >> 4) & 0x7ff; // leave headroom for increments
  }
  lastMs = nowMs;
  lastCounter = counter;
  const ms = BigInt(nowMs);
  for (let i = 0; i < 6; i += 1) id[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  id[6] = 0x70 | (counter >> 8);
  id[7] = counter & 0xff;
  id[8] = 0x80 | ((id[8] ?? 0) & 0x3f);
  return id;
}

/** Canonical text form: 8-4-4-4-12 lowercase hex. */
export function idToString(id: Uint8Array): string {
  if (id.length !== ID_BYTES) {
    throw new InvalidArgumentError(`idToString: an id is ${ID_BYTES} bytes, got ${id.length}`);
  }
  const hex = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const ID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `text` is the canonical form of an id. */
export function isIdString(text: string): boolean {
  return ID_TEXT.test(text);
}

/** Parse the canonical text form (case-insensitive). */
export function parseId(text: string): Uint8Array {
  if (!ID_TEXT.test(text)) {
    throw new InvalidArgumentError(`not a measurement id: expected 8-4-4-4-12 hex digits, got ${JSON.stringify(text.slice(0, 60))}`);
  }
  return new Uint8Array(Buffer.from(text.replace(/-/g, ''), 'hex'));
}

/** The creation time embedded in a UUIDv7, in Unix milliseconds. */
export function idTimestampMs(id: Uint8Array): number {
  if (id.length !== ID_BYTES) {
    throw new InvalidArgumentError(`idTimestampMs: an id is ${ID_BYTES} bytes, got ${id.length}`);
  }
  let ms = 0;
  for (let i = 0; i < 6; i += 1) ms = ms * 256 + (id[i] ?? 0);
  return ms;
}
