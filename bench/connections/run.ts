import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

// bench/connections: how many idle probe sessions one collector holds, and its
// RSS. The collector (../ingest/collector.js) runs in a child process; client
// processes open --per-client sessions each from their own 127.0.x.1 source
// address (so ephemeral ports do not run out). Run through run.sh, which
// raises the open-files limit. Usage:
//   bash bench/connections/run.sh --connections 10000 --per-client 2500
const { values } = parseArgs({ options: { connections: { type: 'string', default: '10000' }, 'per-client': { type: 'string', default: '2500' }, deflate: { type: 'boolean', default: false } } });
const dir = mkdtempSync(join(tmpdir(), 'steppe-bench-conns-'));
const here = new URL('.', import.meta.url);
const collector = spawn(process.execPath, [new URL('../ingest/collector.js', here).pathname, '--db', join(dir, 'c.sqlite'), ...(values.deflate ? [] : ['--no-deflate'])], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const port = await line(collector, /LISTENING (\d+)/);
const stats = (): Promise<Record<string, number>> => new Promise((resolve) => {
  collector.once('message', (m) => resolve(m as Record<string, number>));
  collector.send('stats');
});
const idle = await stats();
const total = Number(values.connections);
const per = Number(values['per-client']);
const clients: ChildProcess[] = [];
let welcomed = 0;
let failed = 0;
const t0 = performance.now();
for (let i = 0, k = 0; i < total; i += per, k += 1) {
  const c = spawn(process.execPath, [new URL('idle-clients.js', here).pathname, '--url', `ws://127.0.0.1:${port}`, '--count', String(Math.min(per, total - i)), '--host', `127.0.${20 + k}.1`, ...(values.deflate ? ['--deflate'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  clients.push(c);
  const [ok, bad] = (await line(c, /READY (\d+ \d+)/)).split(' ').map(Number);
  welcomed += ok ?? 0;
  failed += bad ?? 0;
}
const openMs = performance.now() - t0;
await new Promise((r) => setTimeout(r, 2000));
global.gc?.();
const held = await stats();
for (const c of clients) c.stdin?.end();
collector.send('stop');
rmSync(dir, { recursive: true, force: true });
const mib = (b: number | undefined): number => Math.round((b ?? 0) / 1048576);
process.stdout.write(`${JSON.stringify({
  requested: total, welcomed, failed, held_by_collector: held['connections'], open_seconds: +(openMs / 1000).toFixed(1),
  collector_rss_idle_mib: mib(idle['rssBytes']), collector_rss_held_mib: mib(held['rssBytes']), collector_peak_rss_mib: Math.round((held['maxRssKiB'] ?? 0) / 1024),
  kib_per_connection: Math.round(((held['rssBytes'] ?? 0) - (idle['rssBytes'] ?? 0)) / 1024 / Math.max(1, held['connections'] ?? 1)),
  deflate: values.deflate,
}, null, 1)}\n`);
process.exit(0);

function line(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout ?? process.stdin });
    rl.on('line', (l) => {
      const m = pattern.exec(l);
      if (m !== null) {
        rl.close();
        resolve(m[1] ?? l);
      }
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}
