import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const collectorScript = fileURLToPath(new URL('./fixtures/collector-process.mjs', import.meta.url));
const probeScript = fileURLToPath(new URL('./fixtures/probe-process.mjs', import.meta.url));

/** A spawned collector process. */
export interface CollectorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Everything it wrote on stdout and stderr so far. */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Spawn the collector fixture and wait for "LISTENING <port>". */
export function spawnCollector(args: string[], host = '127.0.0.1'): Promise<CollectorProcess> {
  const child = spawn(process.execPath, [collectorScript, '--host', host, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${out}`)), 15_000);
    const onData = (): void => {
      const m = /LISTENING (\d+)/.exec(out);
      if (m?.[1] === undefined) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      const port = Number(m[1]);
      resolve({
        child,
        port,
        url: `http://${host}:${port}`,
        output: () => out,
        kill: (signal) => new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill(signal);
        }),
      });
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`collector exited (${code}) before listening: ${out}`));
    });
  });
}

/** Spawn the probe uploader fixture. */
export function spawnProbe(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [probeScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
