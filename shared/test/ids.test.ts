import { describe, expect, it } from 'vitest';
import { idTimestampMs, idToString, isIdString, newId, parseId } from '../src/index.js';

describe('measurement ids (UUIDv7)', () => {
  it('embeds the creation time and the version/variant bits', () => {
    const t = Date.UTC(2020, 11, 6, 4, 2, 0, 123);
    const id = newId(t);
    expect(id).toHaveLength(16);
    expect(idTimestampMs(id)).toBe(t);
    expect((id[6] ?? 0) >> 4).toBe(7);
    expect((id[8] ?? 0) >> 6).toBe(2);
  });

  it('sorts by creation time, also within one millisecond', () => {
    const ids = [newId(1000), newId(1000), newId(1000), newId(1001), newId(2000)];
    const hex = ids.map((id) => Buffer.from(id).toString('hex'));
    expect([...hex].sort()).toEqual(hex);
  });

  it('round-trips the text form and rejects malformed text', () => {
    const id = newId();
    const text = idToString(id);
    expect(isIdString(text)).toBe(true);
    expect(Buffer.from(parseId(text.toUpperCase())).equals(Buffer.from(id))).toBe(true);
    expect(() => parseId('not-an-id')).toThrow(/expected 8-4-4-4-12/);
    expect(() => newId(-1)).toThrow(/nowMs/);
  });
});
