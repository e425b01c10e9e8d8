import { EXIT } from '@steppe/shared';
import { afterAll, describe, expect, it } from 'vitest';
import { probe, tempDataDir } from './helpers.js';

const COMMANDS = ['init', 'start', 'run', 'status', 'measure'] as const;
const empty = tempDataDir();
afterAll(() => empty.cleanup());

/** Options documented in a help text, and whether each takes a value. */
function documentedOptions(help: string): { option: string; takesValue: boolean }[] {
  return [...help.matchAll(/^ {2}(--[a-z][a-z-]*)( \S+)?(?: {2,}|$)/gm)].map((m) => ({ option: m[1] ?? '', takesValue: m[2] !== undefined }));
}

describe('every subcommand has --help', () => {
  it('the command list names every subcommand', async () => {
    const r = await probe(['--help']);
    expect(r.code).toBe(EXIT.OK);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^ {2}${c} +\\S`, 'm'));
  });

  for (const command of COMMANDS) {
    it(`${command} --help: usage, options, exit status`, async () => {
      const r = await probe([command, '--help']);
      expect(r.code).toBe(EXIT.OK);
      expect(r.out).toMatch(new RegExp(`^Usage: steppe-probe ${command}\\b`));
      expect(r.out).toMatch(/Exit status:/);
      expect(documentedOptions(r.out).length).toBeGreaterThan(0);
      expect((await probe([command, '-h'])).out).toBe(r.out);
    });
  }

  // Every option the help documents is one the command accepts (and vice
  // versa an undocumented one is refused): run each with a dummy value in an
  // empty data dir, where the command stops at a later, predictable point.
  for (const command of ['init', 'start', 'run', 'status'] as const) {
    it(`${command}: the documented options are the accepted ones`, async () => {
      const help = (await probe([command, '--help'])).out;
      for (const { option, takesValue } of documentedOptions(help)) {
        if (option === '--data-dir') continue;
        const args = [command, '--data-dir', empty.dir, option, ...(takesValue ? ['x'] : [])];
        const r = await probe(args);
        expect(r.err, args.join(' ')).not.toMatch(/Unknown option|argument missing|does not take an argument/);
        expect(r.code, args.join(' ')).not.toBe(EXIT.OK);
      }
      const unknown = await probe([command, '--data-dir', empty.dir, '--no-such-option']);
      expect(unknown.code).toBe(EXIT.USAGE);
      expect(unknown.err).toMatch(/Unknown option '--no-such-option'/);
    });
  }
});
