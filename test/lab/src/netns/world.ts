#!/usr/bin/env node
/**
 * Entry point: run a lab as its own process (the namespace tier runs it
 * inside the "world" namespace with `ip netns exec`). Usage:
 *
 *   node test/lab/dist/netns/world.js '<WorldOptions JSON>'
 *
 * Prints one WorldReady JSON line, then answers WorldCommand lines on stdin
 * (see world-protocol.ts). Closing stdin, SIGTERM or SIGINT stop the lab.
 */
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from '@steppe/shared';
import { type Lab, startLab } from '../lab.js';
import type { WorldAnswer, WorldCommand, WorldDescriptor, WorldOptions, WorldReady } from './world-protocol.js';

function say(line: WorldReady | WorldAnswer): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function describeLab(lab: Lab): WorldDescriptor {
  return {
    dir: lab.dir, rootCaPem: lab.rootCaPem, rootCaFile: lab.rootCaFile, stateRootPem: lab.stateRootPem, stateRootFile: lab.stateRootFile,
    resolver: lab.resolver, publicResolver: lab.publicResolver, dohUrl: lab.dohUrl, ports: lab.ports, networks: lab.networks, sites: lab.sites,
    blockpageAddress: lab.blockpageAddress, bogonAddress: lab.bogonAddress, fingerprints: lab.fingerprints,
  };
}

function execute(lab: Lab, command: WorldCommand): unknown {
  switch (command.op) {
    case 'apply':
      return lab.censor.apply(command.rule);
    case 'lift':
      return lab.censor.lift(command.ruleId);
    case 'lift-where':
      return lab.censor.liftWhere(command.filter);
    case 'clear':
      lab.censor.clear();
      return null;
    case 'events':
      return lab.log.events(command.filter);
    case 'count':
      return lab.log.count(command.filter);
    case 'clear-log':
      lab.log.clear();
      return null;
    default:
      throw new InvalidArgumentError(`unknown op ${JSON.stringify((command as { op?: unknown }).op)}`);
  }
}

async function main(): Promise<void> {
  let options: WorldOptions;
  try {
    options = JSON.parse(process.argv[2] ?? '{}') as WorldOptions;
  } catch (err) {
    say({ failed: `options are not JSON: ${err instanceof Error ? err.message : String(err)}` });
    process.exitCode = 2;
    return;
  }
  let lab: Lab;
  try {
    lab = await startLab(options);
  } catch (err) {
    say({ failed: err instanceof Error ? err.message : String(err) });
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void lab.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  say({ ready: describeLab(lab) });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let id = 0;
    try {
      const command = JSON.parse(line) as WorldCommand;
      id = typeof command.id === 'number' ? command.id : 0;
      say({ id, ok: true, result: execute(lab, command) ?? null });
    } catch (err) {
      say({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  });
  lines.on('close', stop);
}

void main();
