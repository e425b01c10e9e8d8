import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../src/version.js';

describe('probe version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    expect(SOFTWARE_NAME).toBe(pkg.name);
    expect(SOFTWARE_VERSION).toBe(pkg.version);
  });
});
