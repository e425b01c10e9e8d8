import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeFrame, encodeFrame, generateSigningKeyPair, probeIdFromPublicKey, sealBatch } from '@steppe/shared';
import { MeasurementTemplates } from './templates.js';

// One load-generator process: simulates --probes probes, each a WebSocket
// session (hello → welcome) sending signed batches of --batch realistic
// measurements with at most --in-flight unacked, either as fast as acks allow
// (--rate 0) or paced at --rate measurements/s for this worker. Prints one JSON
// line with counts and send→Ack latencies of the measured window.
const { values } = parseArgs({ options: {
  url: { type: 'string' }, probes: { type: 'string', default: '500' }, batch: { type: 'string', default: '50' },
  'in-flight': { type: 'string', default: '2' }, rate: { type: 'string', default: '0' },
  'warmup-ms': { type: 'string', default: '3000' }, 'duration-ms': { type: 'string', default: '15000' },
  host: { type: 'string', default: '127.0.0.1' }, seed: { type: 'string', default: '1' }, deflate: { type: 'boolean', default: false },
} });
const probes = Number(values.probes);
const batchSize = Number(values.batch);
const inFlight = Number(values['in-flight']);
const rate = Number(values.rate);
const templates = new MeasurementTemplates(200, Number(values.seed));
const latencies: number[] = [];
let acked = 0;
let errors = 0;
let measuring = false;
let stopping = false;

interface Sim { ws: WebSocket; keys: ReturnType<typeof generateSigningKeyPair>; probeId: string; seq: number; sent: Map<number, number>; n: number; ready: boolean }
const sims: Sim[] = [];

function sendBatch(s: Sim): void {
  if (stopping || !s.ready || s.sent.size >= inFlight || s.ws.readyState !== WebSocket.OPEN) return;
  const ms = Array.from({ length: batchSize }, () => templates.make((s.n += 1), s.probeId, Date.now() - 1_000));
  s.seq += 1;
  const frame = encodeFrame({ batch: sealBatch({ keys: s.keys, probeId: s.probeId, sequence: s.seq, createdMs: Date.now(), measurements: ms }) });
  s.sent.set(s.seq, performance.now());
  s.ws.send(frame);
}

await Promise.all(Array.from({ length: probes }, (_, i) => new Promise<void>((resolve) => {
  const keys = generateSigningKeyPair();
  const probeId = probeIdFromPublicKey(keys.publicKey);
  const ws = new WebSocket(`${values.url}/api/v1/ingest`, { perMessageDeflate: values.deflate, localAddress: values.host });
  const s: Sim = { ws, keys, probeId, seq: 0, sent: new Map(), n: i * 1000, ready: false };
  sims.push(s);
  ws.on('open', () => ws.send(encodeFrame({ hello: { protocolVersion: PROTOCOL_VERSION, probeId, publicKey: keys.publicKey, softwareVersion: 'bench/1' } })));
  ws.on('message', (data: Buffer) => {
    const d = decodeFrame(data);
    if (!d.ok) return;
    const f = d.value;
    if (f.body === 'welcome') {
      s.ready = true;
      resolve();
      return;
    }
    if (f.body === 'ack') {
      const seq = f.ack?.sequence ?? 0;
      const t = s.sent.get(seq);
      s.sent.delete(seq);
      if (measuring && t !== undefined) {
        latencies.push(performance.now() - t);
        acked += (f.ack?.storedIds?.length ?? 0) + (f.ack?.duplicateIds?.length ?? 0);
      }
      if (rate === 0) sendBatch(s);
    } else if (f.body === 'error') {
      errors += 1;
      process.stderr.write(`${f.error?.code} ${f.error?.message}\n`);
    }
  });
  ws.on('error', () => { errors += 1; resolve(); });
})));
process.stdout.write(`READY\n`);
// Start together: the parent writes a line when every worker is ready.
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));

let pacer: NodeJS.Timeout | undefined;
if (rate === 0) {
  for (const s of sims) for (let k = 0; k < inFlight; k += 1) sendBatch(s);
} else {
  // Round-robin over probes; credit grows with elapsed time (timers run late on a busy machine).
  const batchesPerMs = rate / batchSize / 1000;
  let credit = 0;
  let next = 0;
  let last = performance.now();
  pacer = setInterval(() => {
    const now = performance.now();
    credit += (now - last) * batchesPerMs;
    last = now;
    while (credit >= 1) {
      credit -= 1;
      const s = sims[next % sims.length];
      next += 1;
      if (s !== undefined) sendBatch(s);
    }
  }, 5);
}
await new Promise((r) => setTimeout(r, Number(values['warmup-ms'])));
measuring = true;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await new Promise((r) => setTimeout(r, Number(values['duration-ms'])));
measuring = false;
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
stopping = true;
if (pacer !== undefined) clearInterval(pacer);
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
process.stdout.write(`${JSON.stringify({ acked, elapsedMs: elapsed, batches: latencies.length, p50: pct(0.5), p99: pct(0.99), errors, cpuUs: cpu.user + cpu.system, latencies: latencies.filter((_, i) => i % 10 === 0) })}\n`);
for (const s of sims) s.ws.terminate();
process.exit(0);
