// bench/probe-footprint/import-cost.mjs: what importing each module adds to
// a fresh node process, in order: wall time of the import, RSS split into
// anonymous memory (heap, malloc) and file-backed pages (the node binary's
// code and ICU data, shared libraries: shared with other processes and
// reclaimable), and the V8 heap. Run with --expose-gc so each figure is
// taken after a full GC. Later modules are charged only for what earlier
// ones did not already load. Usage (after `npm run build`):
//   node --expose-gc bench/probe-footprint/import-cost.mjs @steppe/proto @steppe/shared ws ...
import { readFileSync } from 'node:fs';

const mib = (kib) => kib / 1024;
function sample() {
  globalThis.gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: mib(kib('VmRSS')), anon: mib(kib('RssAnon')), file: mib(kib('RssFile')), heap: process.memoryUsage().heapUsed / 2 ** 20 };
}
const fmt = (x) => x.toFixed(1).padStart(6);
let previous = sample();
console.log(`${'module'.padEnd(48)} ${'ms'.padStart(6)} ${'+rss'.padStart(6)} ${'+anon'.padStart(6)} ${'+file'.padStart(6)} ${'+heap'.padStart(6)} ${'rss'.padStart(6)}`);
console.log(`${'(node)'.padEnd(48)} ${''.padStart(6)} ${''.padStart(6)} ${fmt(previous.anon)} ${fmt(previous.file)} ${fmt(previous.heap)} ${fmt(previous.rss)}`);
for (const specifier of process.argv.slice(2)) {
  const t0 = performance.now();
  await import(specifier);
  const ms = performance.now() - t0;
  const now = sample();
  const name = specifier.length > 48 ? `…${specifier.slice(-47)}` : specifier;
  console.log(`${name.padEnd(48)} ${fmt(ms)} ${fmt(now.rss - previous.rss)} ${fmt(now.anon - previous.anon)} ${fmt(now.file - previous.file)} ${fmt(now.heap - previous.heap)} ${fmt(now.rss)}`);
  previous = now;
}
