// bench/i18n/cost.mjs: what translations cost the probe, in a fresh node
// process: importing intl-messageformat, loading the probe catalog and the
// consent notice of a language, then formatting every message of the
// catalog once (compiling each) and 10,000 more times (cached). RSS after a
// full GC (--expose-gc). Usage (after `npm run build`):
//   node --expose-gc bench/i18n/cost.mjs kk
import { readFileSync } from 'node:fs';

const language = process.argv[2] ?? 'kk';
const mib = (kib) => kib / 1024;
function rss() {
  globalThis.gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  return mib(Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN));
}
const rows = [];
let last = rss();
let t = performance.now();
function step(name) {
  const now = rss();
  const ms = performance.now() - t;
  rows.push(`${name.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms ${(now - last).toFixed(1).padStart(6)} MiB  (rss ${now.toFixed(1)} MiB)`);
  last = now;
  t = performance.now();
}
await import('intl-messageformat');
step('import intl-messageformat');
const { translatorFor, loadConsentNotice, loadCatalog } = await import('@steppe/shared');
step('import @steppe/shared (the probe does anyway)');
const tr = translatorFor(language, 'probe');
loadConsentNotice(language);
step(`catalog + notice (${language})`);
const keys = Object.keys(loadCatalog(language, 'probe'));
const values = { count: 21, measured: 3, targets: 40, anomalies: 2, acked: 5, pending: 0, kind: 'full', outcome: 'completed', reason: 'stopping', role: 'collector', all: 'yes', hasNever: 'no', hasOldest: 'no', again: 'no', origin: 'shipped', language: 'kk', budget: 'no' };
for (const k of keys) tr.t(k, values);
step(`format all ${keys.length} messages once`);
for (let i = 0; i < 10_000; i += 1) tr.t('run.uploaded', { acked: i });
step('format 10,000 more (cached)');
console.log(rows.join('\n'));
