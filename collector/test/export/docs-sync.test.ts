import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/export/csv.js';

const doc = readFileSync(new URL('../../../docs/data-format.md', import.meta.url), 'utf8');

/** Rows `| \`name\` | meaning |` of the table that follows `heading`. */
function tableAfter(heading: string): [string, string][] {
  const start = doc.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const rows: [string, string][] = [];
  let inTable = false;
  for (const line of doc.slice(start).split('\n').slice(1)) {
    if (line.startsWith('|')) {
      inTable = true;
      const m = /^\| `([^`]+)` \| (.*) \|$/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) rows.push([m[1], m[2]]);
    } else if (inTable) {
      break;
    }
  }
  return rows;
}

describe('docs/data-format.md', () => {
  it('lists the CSV columns exactly as exported, in order, with their descriptions', () => {
    expect(tableAfter('## CSV')).toEqual(CSV_COLUMNS.map((c) => [c.name, c.description]));
  });
});
