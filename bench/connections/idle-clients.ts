import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, decodeFrame, encodeFrame, generateSigningKeyPair, probeIdFromPublicKey } from '@steppe/shared';

// Opens --count idle probe sessions (hello → welcome, then nothing) from
// source address --host, prints "READY <welcomed> <failed>", and holds them
// until stdin closes. The sessions of one client process share a probe key:
// what is measured is the cost of a held session, not of 10,000 registrations.
const { values } = parseArgs({ options: { url: { type: 'string' }, count: { type: 'string', default: '2500' }, host: { type: 'string', default: '127.0.0.1' }, deflate: { type: 'boolean', default: false } } });
const count = Number(values.count);
const sockets: WebSocket[] = [];
let welcomed = 0;
let failed = 0;
const keys = generateSigningKeyPair();
const probeId = probeIdFromPublicKey(keys.publicKey);
const hello = encodeFrame({ hello: { protocolVersion: PROTOCOL_VERSION, probeId, publicKey: keys.publicKey, softwareVersion: 'bench/1' } });
const open = (): Promise<void> => new Promise((resolve) => {
  const ws = new WebSocket(`${values.url}/api/v1/ingest`, { localAddress: values.host, perMessageDeflate: values.deflate });
  sockets.push(ws);
  ws.on('open', () => ws.send(hello));
  ws.on('message', (d: Buffer) => {
    const f = decodeFrame(d);
    if (f.ok && f.value.body === 'welcome') welcomed += 1;
    else failed += 1;
    resolve();
  });
  ws.on('error', () => { failed += 1; resolve(); });
});
// Open in waves so the accept queue is not flooded.
for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, open));
process.stdout.write(`READY ${welcomed} ${failed}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const s of sockets) s.terminate();
  process.exit(0);
});
