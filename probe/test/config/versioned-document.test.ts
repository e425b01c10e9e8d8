import { describe, expect, it } from 'vitest';
import { ConfigError, check } from '@steppe/shared';
import { type DocumentStep, versioned } from '../../src/config/versioned-document.js';

// A made-up file with three layouts, to pin how any JSON file of the data
// directory is brought forward (the config and the consent record use this).
const steps: DocumentStep[] = [
  { from: 1, name: 'rename host to hosts', up: ({ host, ...rest }) => ({ ...rest, hosts: [host] }) },
  { from: 2, name: 'limits in an object', up: ({ limit, ...rest }) => ({ ...rest, limits: { max: limit } }) },
];
const schema = versioned(
  { field: 'layout', current: 3, implicit: 1, steps },
  check.object({
    layout: check.integer({ min: 3, max: 3 }),
    hosts: check.list(check.string({ min: 1 })),
    limits: check.object({ max: check.integer({ min: 1, max: 10 }) }),
  }),
);

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.field;
    throw err;
  }
  return undefined;
}

describe('versioned JSON documents', () => {
  const current = { layout: 3, hosts: ['a'], limits: { max: 2 } };

  it('brings every older layout forward, step by step, to the current one', () => {
    expect(schema({ host: 'a', limit: 2 }, '')).toEqual(current); // no version field: layout 1
    expect(schema({ layout: 1, host: 'a', limit: 2 }, '')).toEqual(current);
    expect(schema({ layout: 2, hosts: ['a'], limit: 2 }, '')).toEqual(current);
    expect(schema(current, '')).toEqual(current);
  });

  it('validates the result: a bad field of an old layout is named in the current one', () => {
    expect(fieldOf(() => schema({ layout: 2, hosts: ['a'], limit: 99 }, ''))).toBe('limits.max');
  });

  it('refuses a newer layout, saying to upgrade; a version that is no version is left to the schema', () => {
    expect(() => schema({ ...current, layout: 4 }, '')).toThrow('field "layout": 4 is a newer layout than this probe knows (3); upgrade the probe');
    expect(() => schema({ ...current, layout: 'three' }, '')).toThrow(/field "layout": expected an integer from 3 to 3/);
    expect(() => schema([], '')).toThrow(/expected an object/);
  });

  it('refuses a broken list of steps when it is built', () => {
    expect(() => versioned({ field: 'v', current: 3, steps: [...steps].reverse() }, check.object({}))).toThrow(/position 0 goes from 2/);
  });
});
