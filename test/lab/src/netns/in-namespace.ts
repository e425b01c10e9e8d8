#!/usr/bin/env node
/**
 * Entry point: the namespace tier's guard. Runs a node script only when it
 * is itself inside a lab network namespace:
 *
 *   ip netns exec NS node test/lab/dist/netns/in-namespace.js ROOT_NETNS_INODE SCRIPT [ARGS...]
 *
 * It refuses (exit 3, the script never starts) when its network namespace is
 * the root one (same inode as the harness's), or when any interface holds an
 * address outside 198.18.0.0/15 and loopback: then traffic could leave the
 * lab. Otherwise it runs SCRIPT in this same process (no second node
 * start-up), with process.argv as if SCRIPT had been started directly.
 */
import { statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { namespaceViolations } from './namespace-check.js';

const REFUSED = 3;

function refuse(reason: string): never {
  process.stderr.write(`steppe lab guard: refusing to start: ${reason}\n`);
  process.exit(REFUSED);
}

const [rootInodeText, script, ...args] = process.argv.slice(2);
if (rootInodeText === undefined || script === undefined || !/^\d+$/.test(rootInodeText)) {
  refuse('usage: in-namespace.js ROOT_NETNS_INODE SCRIPT [ARGS...]');
}
let ownInode: number;
try {
  ownInode = statSync('/proc/self/ns/net').ino;
} catch (err) {
  refuse(`cannot read /proc/self/ns/net (${err instanceof Error ? err.message : String(err)})`);
}
const violations = namespaceViolations(ownInode, Number(rootInodeText), networkInterfaces());
if (violations.length > 0) refuse(violations.join('; '));

// The script sees the argv it would have had if started as `node SCRIPT ARGS...`.
const path = resolve(script);
process.argv = [process.argv[0] ?? process.execPath, path, ...args];
await import(pathToFileURL(path).href);
