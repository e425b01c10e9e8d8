import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type CliIO, type Command, EXIT, SteppeError, UsageError, parseCommandLine, runCli } from '../src/index.js';

function io(): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = '';
  let e = '';
  stdout.on('data', (c: Buffer) => (o += c.toString()));
  stderr.on('data', (c: Buffer) => (e += c.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough(), env: {}, signal: new AbortController().signal }, out: () => o, err: () => e };
}

const echo: Command = {
  name: 'echo',
  summary: 'echo',
  help: 'Usage: prog echo --times N',
  async run(args, cio) {
    const { values } = parseCommandLine(args, { times: { type: 'string' } });
    if (values.times === 'boom') throw new SteppeError('STEPPE_ERR_UPLINK', 'no collector reachable');
    if (values.times === 'bug') throw new Error('invariant');
    if (values.times === undefined) throw new UsageError('option --times is required');
    cio.stdout.write(`x${values.times}\n`);
    return EXIT.OK;
  },
};

const run = (argv: string[], t = io()): Promise<number> =>
  runCli({ program: 'prog', version: '9.9.9', description: 'Prog.', commands: { echo: { summary: 'Echo', load: async () => echo } }, argv, io: t.io });

describe('runCli', () => {
  it('dispatches and prints help and version', async () => {
    const t = io();
    expect(await run(['echo', '--times', '3'], t)).toBe(0);
    expect(t.out()).toBe('x3\n');
    const h = io();
    expect(await run(['echo', '--help'], h)).toBe(0);
    expect(h.out()).toMatch(/Usage: prog echo/);
    const v = io();
    expect(await run(['--version'], v)).toBe(0);
    expect(v.out()).toBe('9.9.9\n');
  });

  it('exits 2 naming the bad option or command', async () => {
    const t = io();
    expect(await run(['echo', '--tims', '3'], t)).toBe(EXIT.USAGE);
    expect(t.err()).toMatch(/--tims/);
    const u = io();
    expect(await run(['ech'], u)).toBe(EXIT.USAGE);
    expect(u.err()).toMatch(/unknown command "ech"/);
    const m = io();
    expect(await run(['echo'], m)).toBe(EXIT.USAGE);
    expect(m.err()).toMatch(/--times is required/);
  });

  it('exits 1 with the code for coded failures and 70 for bugs', async () => {
    const t = io();
    expect(await run(['echo', '--times', 'boom'], t)).toBe(EXIT.FAILED);
    expect(t.err()).toMatch(/\[STEPPE_ERR_UPLINK\]/);
    const b = io();
    expect(await run(['echo', '--times', 'bug'], b)).toBe(EXIT.INTERNAL);
    expect(b.err()).toMatch(/internal error/);
  });
});
