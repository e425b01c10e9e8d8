import { deflateRawSync, gzipSync } from 'node:zlib';
import { encodeFrame, encodeMeasurement, generateSigningKeyPair, probeIdFromPublicKey, sealBatch } from '@steppe/shared';
import { realisticMeasurement, seededRandom } from '../../test/uplink/fixtures/realistic-measurements.js';

// bench/ingest/compression: size and CPU cost of the three ways to compress a
// batch frame, on realistic batches (web_connectivity with DER chains and
// HTML prefixes): none, permessage-deflate as ws negotiates it with no
// context takeover (raw DEFLATE of each message, RFC 7692), and gzip of the
// frame inside the message. Usage (after the bench build, see RESULTS.md):
//   node bench/dist/bench/ingest/compression.js
const keys = generateSigningKeyPair();
const probeId = probeIdFromPublicKey(keys.publicKey);
const rand = seededRandom(42);
const now = Date.now();
const sizes = [1, 10, 50, 100];
const rows: Array<Record<string, number | string>> = [];
for (const n of sizes) {
  const frames: Uint8Array[] = [];
  for (let b = 0; b < 40; b += 1) {
    const ms = Array.from({ length: n }, (_, i) => encodeMeasurement(realisticMeasurement(probeId, now - (b * n + i) * 1000, rand)));
    frames.push(encodeFrame({ batch: sealBatch({ keys, probeId, sequence: b + 1, createdMs: now, measurements: ms }) }));
  }
  const raw = frames.reduce((s, f) => s + f.length, 0);
  const time = (fn: (f: Uint8Array) => Uint8Array): { bytes: number; usPerMb: number } => {
    let bytes = 0;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < 3; r += 1) for (const f of frames) bytes += fn(f).length;
    const ns = Number(process.hrtime.bigint() - t0);
    return { bytes: bytes / 3, usPerMb: ns / 1000 / ((raw * 3) / 1e6) };
  };
  const deflate = time((f) => deflateRawSync(f, { level: 6 }));
  const deflate1 = time((f) => deflateRawSync(f, { level: 1 }));
  const gzip = time((f) => gzipSync(f, { level: 6 }));
  rows.push({
    measurements_per_batch: n,
    mean_frame_bytes: Math.round(raw / frames.length),
    permessage_deflate_ratio: +(deflate.bytes / raw).toFixed(3),
    permessage_deflate_level1_ratio: +(deflate1.bytes / raw).toFixed(3),
    gzip_in_frame_ratio: +(gzip.bytes / raw).toFixed(3),
    deflate_ms_per_mb: +(deflate.usPerMb / 1000).toFixed(2),
    deflate_level1_ms_per_mb: +(deflate1.usPerMb / 1000).toFixed(2),
    gzip_ms_per_mb: +(gzip.usPerMb / 1000).toFixed(2),
  });
}
process.stdout.write(`${JSON.stringify(rows, null, 1)}\n`);
