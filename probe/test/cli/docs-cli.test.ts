import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT } from '@steppe/shared';
import { describe, expect, it } from 'vitest';
import { probe } from './helpers.js';

// docs/cli.md documents both CLIs; this keeps it honest: every option a
// command's --help documents is in that command's section, and the exit
// statuses are those of shared/src/cli.ts.
const DOC = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
const COLLECTOR_BIN = fileURLToPath(new URL('../../../collector/bin/steppe-collector.js', import.meta.url));

function section(cli: string, command: string): string {
  const start = DOC.indexOf(`### ${cli} ${command}`);
  expect(start, `docs/cli.md has "### ${cli} ${command}"`).toBeGreaterThanOrEqual(0);
  const end = DOC.indexOf('\n### ', start + 1);
  return DOC.slice(start, end < 0 ? undefined : end);
}

const optionsOf = (help: string): string[] => [...new Set([...help.matchAll(/^ {2}(--[a-z][a-z-]*)/gm)].map((m) => m[1] ?? ''))];

describe('docs/cli.md', () => {
  for (const command of ['init', 'start', 'run', 'status', 'measure']) {
    it(`steppe-probe ${command}: every --help option is documented`, async () => {
      const text = section('steppe-probe', command);
      const options = optionsOf((await probe([command, '--help'])).out);
      expect(options.length).toBeGreaterThan(0);
      for (const option of options) expect(text, option).toContain(`\`${option}`);
    });
  }

  for (const command of ['serve', 'control', 'up', 'import-ooni', 'snapshot', 'verify']) {
    const run = spawnSync(process.execPath, [COLLECTOR_BIN, command, '--help'], { encoding: 'utf8' });
    it(`steppe-collector ${command}: every --help option is documented`, () => {
      expect(run.status).toBe(0);
      const text = section('steppe-collector', command);
      const options = optionsOf(run.stdout);
      expect(options.length).toBeGreaterThan(0);
      for (const option of options) expect(text, option).toContain(`\`${option}`);
    });
  }

  it('the exit status table is shared/src/cli.ts EXIT', () => {
    const rows = [...DOC.matchAll(/^\| (\d+) \| `([A-Z]+)` \|/gm)].map((m) => [m[2], Number(m[1])]);
    expect(Object.fromEntries(rows)).toEqual({ ...EXIT });
  });
});
