import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, type ErrorCode, SteppeError, UsageError } from './errors.js';

/** Where a command reads and writes; tests pass their own. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly signal: AbortSignal;
}

/** One subcommand of a CLI. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Full `--help` text. */
  readonly help: string;
  run(args: string[], io: CliIO): Promise<number>;
}

/** A subcommand loaded on demand, so `--help` stays fast and light. */
export interface CommandEntry {
  readonly summary: string;
  load(): Promise<Command>;
}

/**
 * Exit statuses shared by both CLIs (docs/cli.md):
 * 0 success; 1 the command ran but failed (e.g. uploads left in the outbox);
 * 2 bad arguments or configuration; 3 consent not given; 70 internal error.
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, CONSENT: 3, INTERNAL: 70 } as const;

/** The process's real streams and a signal aborted on SIGINT/SIGTERM. */
export function processIO(): CliIO {
  const controller = new AbortController();
  const stop = (): void => controller.abort(new Error('interrupted by signal'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: controller.signal };
}

/** Dispatch `argv` to a subcommand; turns errors into messages and exit codes. */
export async function runCli(options: {
  readonly program: string;
  readonly version: string;
  readonly description: string;
  readonly commands: Readonly<Record<string, CommandEntry>>;
  readonly argv: readonly string[];
  readonly io: CliIO;
  /** A line in the user's language explaining an error code, printed above the (English) detail; undefined: none. */
  readonly describeError?: (code: ErrorCode) => string | undefined;
}): Promise<number> {
  const { program, commands, io } = options;
  const [name, ...rest] = options.argv;
  const listing = (): string =>
    `${options.description}\n\nUsage: ${program} <command> [options]\n\nCommands:\n${Object.entries(commands)
      .map(([n, c]) => `  ${n.padEnd(14)}${c.summary}`)
      .join('\n')}\n\nRun \`${program} <command> --help\` for a command's options.\n`;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(listing());
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${options.version}\n`);
    return EXIT.OK;
  }
  const entry = commands[name];
  if (entry === undefined) {
    io.stderr.write(`${program}: unknown command ${JSON.stringify(name)}\n\n${listing()}`);
    return EXIT.USAGE;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
      return EXIT.OK;
    }
    return await command.run(rest, io);
  } catch (err) {
    return reportError(program, name, err, io, options.describeError);
  }
}

/**
 * Print an error the way both CLIs do and return the exit status. With
 * `describeError`, a translated explanation of the code comes first and the
 * message (English, as in logs and docs) follows on the next line.
 */
export function reportError(program: string, command: string, err: unknown, io: CliIO, describeError?: (code: ErrorCode) => string | undefined): number {
  const headline = err instanceof SteppeError ? describeError?.(err.code) : undefined;
  const lead = headline === undefined ? '' : `${headline}\n  `;
  if (err instanceof UsageError || err instanceof ConfigError) {
    io.stderr.write(`${program} ${command}: ${lead}${err.message}\nRun \`${program} ${command} --help\` for usage.\n`);
    return EXIT.USAGE;
  }
  if (err instanceof SteppeError) {
    io.stderr.write(`${program} ${command}: ${lead}${err.message} [${err.code}]\n`);
    return err.code === 'STEPPE_ERR_CONSENT_REQUIRED' ? EXIT.CONSENT : EXIT.FAILED;
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  io.stderr.write(`${program} ${command}: internal error, please report it:\n${detail}\n`);
  return EXIT.INTERNAL;
}

/**
 * `util.parseArgs` in strict mode, with its errors turned into UsageErrors
 * that name the offending option.
 */
export function parseCommandLine<const T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  spec: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args, options: spec, allowPositionals, strict: true });
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.replace(/\. To specify a positional argument.*$/s, '') : String(cause);
    throw new UsageError(message, { cause });
  }
}
