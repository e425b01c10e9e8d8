import { steppe } from '@steppe/proto';
import type { Measurement } from './codec.js';
import { idToString } from './ids.js';

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A measurement as JSON (see docs/data-format.md). */
export type MeasurementJson = { [key: string]: Json };

// Field names repeat in every measurement: convert each once (exports call
// measurementToJson for millions of measurements).
const SNAKE = new Map<string, string>();

/**
 * The JSON key of a protobufjs field name (camelCase → snake_case, e.g.
 * `t0Ms` → `t0_ms`): what measurementToJson writes for every key.
 */
export function jsonFieldName(key: string): string {
  let out = SNAKE.get(key);
  if (out === undefined) {
    out = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (SNAKE.size < 4096) SNAKE.set(key, out);
  }
  return out;
}

function base64ToHex(value: Json): Json {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value;
}

/** PEM text of one DER certificate. */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * The conversion measurementToJson applies to a value of protobufjs's
 * `toObject` output found under `key`: snake_case keys, digests in hex,
 * certificates in PEM. Exported for the exporters' wire-to-JSON transcoder,
 * which must produce exactly the same JSON.
 */
export function toJsonValue(value: unknown, key: string): Json {
  return convert(value, key);
}

function convert(value: unknown, key: string): Json {
  if (Array.isArray(value)) {
    if (key === 'peer_certificates') {
      return value.map((v) => (typeof v === 'string' ? derToPem(Buffer.from(v, 'base64')) : null));
    }
    if (key === 'measurement_sha256') return value.map((v) => base64ToHex(v as Json));
    return value.map((v) => convert(v, key));
  }
  if (value !== null && typeof value === 'object') {
    const out: { [k: string]: Json } = {};
    const object = value as Record<string, unknown>;
    // for...in over toObject()'s plain objects: the own keys, in Object.entries order, without the pairs.
    for (const k in object) {
      if (!Object.hasOwn(object, k)) continue;
      const sk = jsonFieldName(k);
      const converted = convert(object[k], sk);
      out[sk] = sk.endsWith('sha256') ? base64ToHex(converted) : converted;
    }
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return null;
}

/**
 * The JSON form of a measurement, used by the probe's `measure` output, the
 * API and the JSONL export alike: snake_case field names as in the .proto,
 * every field present (defaults included), `id` as a UUID string, digests in
 * hex, certificates in PEM, other bytes in base64. The verdict fields are
 * also hoisted to the top level for convenience, and `start_time` gives
 * `start_time_ms` in ISO 8601 (null when it is absent, i.e. 0: a missing
 * time is never shown as a date).
 */
export function measurementToJson(m: Measurement): MeasurementJson {
  const object = steppe.v1.Measurement.toObject(m, {
    longs: Number,
    enums: String,
    bytes: String,
    defaults: true,
    arrays: true,
    objects: true,
  });
  const json = convert(object, '') as MeasurementJson;
  json['id'] = idToString(m.id);
  const a = m.analysis;
  json['verdict'] = a?.verdict ?? '';
  json['anomaly'] = a?.anomaly ?? false;
  json['confirmed'] = a?.confirmed ?? false;
  json['failure'] = a?.failure ? a.failure : null;
  json['start_time'] = m.startTimeMs === 0 ? null : new Date(m.startTimeMs).toISOString();
  return json;
}
