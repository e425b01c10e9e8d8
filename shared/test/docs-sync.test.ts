import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, FAILURES } from '../src/index.js';

const docs = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

/** First-column backticked names of a Markdown table. */
function tableNames(markdown: string): string[] {
  return [...markdown.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe('documentation stays in sync with the code', () => {
  it('docs/errors.md lists exactly the error codes', () => {
    expect(tableNames(docs('errors.md')).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('docs/failures.md lists exactly the failure vocabulary', () => {
    expect(tableNames(docs('failures.md')).sort()).toEqual([...FAILURES].sort());
  });
});
