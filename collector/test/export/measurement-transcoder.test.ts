import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type MeasurementProps, encodeMeasurement, measurementToJson, newId, wire } from '@steppe/shared';
import { ByteWriter } from '../../src/export/byte-writer.js';
import { FIELD_KIND, type FieldPlan, type MessagePlan, UnsupportedSchemaError, measurementJsonPlan } from '../../src/export/json-plan.js';
import { IsoTimes, MeasurementTranscoder } from '../../src/export/measurement-transcoder.js';
import { BLOCKPAGE_PREFIX, measurementProps } from '../store/fixtures.js';

const planOrError = measurementJsonPlan();
if (planOrError instanceof UnsupportedSchemaError) throw planOrError;
const plan: MessagePlan = planOrError;

/** The reference: what exports wrote before the transcoder. */
function reference(raw: Uint8Array): string | undefined {
  try {
    return JSON.stringify(measurementToJson(wire.Measurement.decode(raw)));
  } catch {
    return undefined;
  }
}

function transcode(t: MeasurementTranscoder, raw: Uint8Array): string | undefined {
  const out = new ByteWriter(64);
  out.ascii('#'); // something before: the transcoder must leave it alone
  const ok = t.writeMeasurementJson(out, raw);
  const text = out.take().toString('utf8');
  expect(text.startsWith('#')).toBe(true);
  if (!ok) {
    expect(text).toBe('#');
    return undefined;
  }
  return text.slice(1);
}

// Values that stress the JSON: escapes, non-ASCII, surrogate pairs, a BOM, keys
// measurementToJson converts (camelCase, *sha256, __proto__, integer-like).
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('', '"', '\\', '\n\t\r\b\f\u0000\u001f\u007f', 'Доступ ограничен', '😀\uFEFF', '</script>', 'tls_handshakes[0]'),
);
const mapKey = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'fooBar', 'body_sha256', '10', '2', 'platform', 'control_sni', 'constructor'));
const double = fc.oneof(fc.double(), fc.constantFrom(0, -0, 1.5, 1e21, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY));
const bytes = fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 96, maxLength: 400 }), fc.constantFrom(new Uint8Array(0), new Uint8Array(1300).fill(7)));

function scalarArb(f: FieldPlan): fc.Arbitrary<unknown> {
  switch (f.kind) {
    case FIELD_KIND.string: return text;
    case FIELD_KIND.bytes: return bytes;
    case FIELD_KIND.bool: return fc.boolean();
    case FIELD_KIND.double: return double;
    case FIELD_KIND.float: return double.map((v) => Math.fround(v));
    case FIELD_KIND.uint32: return fc.oneof(fc.nat(300), fc.constantFrom(0, 127, 128, 2 ** 28, 2 ** 32 - 1));
    case FIELD_KIND.int32: return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case FIELD_KIND.uint64: return fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 32, 2 ** 53 - 1));
    case FIELD_KIND.int64: return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1_607_220_000_000, -(2 ** 53) + 1, 2 ** 53 - 1));
    case FIELD_KIND.enum: return fc.oneof(fc.constantFrom(...(f.enumNames?.keys() ?? [0])), fc.integer({ min: -3, max: 70 }));
    default: throw new Error(`no generator for kind ${f.kind}`);
  }
}

/** Random props for a message plan, every field possibly present (generated from the schema itself). */
function messageArb(p: MessagePlan, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of p.fields) {
    let arb: fc.Arbitrary<unknown>;
    if (f.kind === FIELD_KIND.message) {
      const sub = f.message;
      if (sub === undefined || depth > 5) continue;
      arb = f.repeated ? fc.array(messageArb(sub, depth + 1), { maxLength: 2 }) : messageArb(sub, depth + 1);
    } else if (f.kind === FIELD_KIND.stringMap) {
      arb = fc.dictionary(mapKey, text, { maxKeys: 3 });
    } else {
      arb = f.repeated ? fc.array(scalarArb(f), { maxLength: 3 }) : scalarArb(f);
    }
    parts[f.name] = arb;
  }
  return fc.record(parts, { requiredKeys: [] });
}

/** Measurements as a probe makes them (certificates, body prefix, analysis, annotations), varied by `i`. */
function realistic(i: number): MeasurementProps {
  const blocked = i % 3 === 0;
  const props = measurementProps({
    probeId: 'p0123456789abcdef',
    startMs: 1_607_220_000_000 + i * 1000,
    domain: ['www.facebook.com', 'www.youtube.com', 'kaz.example.kz'][i % 3] ?? 'x.example',
    ...(blocked ? { verdict: 'tls', blockingType: 'sni_reset', failure: 'connection_reset' } : {}),
    ...(i % 5 === 0 ? { leafCert: Buffer.alloc(900, i % 7) } : {}),
    ...(i % 4 === 0 ? { bodyPrefix: BLOCKPAGE_PREFIX } : { bodyPrefix: Buffer.from(`<html><title>Страница ${i % 6}</title></html>`) }),
  });
  return { ...props, annotations: { platform: 'linux', control_sni: 'example.org', ...(i % 2 === 0 ? { scrubbed: 'observations.http_requests[].url' } : {}) } };
}

const measurementArb = messageArb(plan, 0).map((m): MeasurementProps => ({
  ...m,
  id: newId(1_607_220_000_000),
  startTimeMs: typeof m['startTimeMs'] === 'number' && Math.abs(m['startTimeMs']) < 8.64e15 ? m['startTimeMs'] : 1_607_220_000_000,
}));

describe('MeasurementTranscoder', () => {
  it('writes exactly what JSON.stringify(measurementToJson(decode(raw))) writes', () => {
    const t = new MeasurementTranscoder(plan);
    fc.assert(fc.property(measurementArb, (m) => {
      const raw = encodeMeasurement(m);
      const expected = reference(raw);
      expect(expected).toBeDefined();
      const actual = transcode(t, raw);
      expect(actual).toBe(expected);
      // The content the brief asks for (identical text implies it; non-finite doubles are null in both).
      expect(JSON.parse(actual ?? 'null')).toEqual(JSON.parse(JSON.stringify(measurementToJson(wire.Measurement.decode(raw)))));
    }), { numRuns: 250 });
  });

  it('agrees on realistic measurements, certificates and body prefixes served from its cache', () => {
    const t = new MeasurementTranscoder(plan);
    for (let i = 0; i < 300; i += 1) {
      const raw = encodeMeasurement(realistic(i));
      expect(transcode(t, raw)).toBe(reference(raw));
    }
  });

  it('follows protobufjs on unusual encodings: merged repeats, unknown fields, wrong wire types, damage', () => {
    const t = new MeasurementTranscoder(plan);
    const mutated = fc.tuple(measurementArb, measurementArb, fc.uint8Array({ maxLength: 12 }), fc.nat(), fc.nat(255), fc.integer({ min: 0, max: 3 })).map(([a, b, junk, at, value, how]) => {
      const x = encodeMeasurement(a);
      const y = encodeMeasurement(b);
      switch (how) {
        case 0: return Buffer.concat([x, y]); // a message sent twice merges
        case 1: return Buffer.concat([x.subarray(0, at % (x.length + 1)), junk, x.subarray(at % (x.length + 1))]);
        case 2: {
          const z = Buffer.from(x);
          if (z.length > 0) z[at % z.length] = value;
          return z;
        }
        default: return x.subarray(0, at % (x.length + 1));
      }
    });
    let same = 0;
    fc.assert(fc.property(mutated, (raw) => {
      const expected = reference(raw);
      const actual = transcode(t, raw);
      // Where the transcoder writes, it writes the reference's JSON; where it
      // gives up, the exporter runs the reference path itself.
      if (actual !== undefined) {
        expect(actual).toBe(expected);
        same += 1;
      }
    }), { numRuns: 600 });
    expect(same).toBeGreaterThan(120);
  });

  it('handles hand-made encodings: a non-minimal varint, a repeated singular field, an unknown field, a wrong wire type', () => {
    const t = new MeasurementTranscoder(plan);
    const base = Buffer.from(encodeMeasurement({ id: newId(1_607_220_000_000), probeId: 'p1', startTimeMs: 1_607_220_000_000, probeAsn: 5 }));
    const extra = Buffer.from([
      0x70, 0x85, 0x80, 0x80, 0x80, 0x00, // probe_asn = 5, as a 5-byte varint
      0x12, 0x02, 0x70, 0x32, // probe_id again: "p2" wins
      0xf8, 0x3e, 0x01, // unknown field 999, varint
      0x20, 0x01, // test_version (a string) as a varint: skipped
      0xa2, 0x01, 0x02, 0x22, 0x00, // observations with an empty http request
      0xa2, 0x01, 0x02, 0x22, 0x00, // ... and again: the requests merge into one list
    ]);
    const raw = Buffer.concat([base, extra]);
    const out = transcode(t, raw);
    expect(out).toBe(reference(raw));
    const json = JSON.parse(out ?? '{}') as { probe_id: string; observations: { http_requests: unknown[] } };
    expect(json.probe_id).toBe('p2');
    expect(json.observations.http_requests).toHaveLength(2);
  });

  it('gives up where measurementToJson throws: invalid UTF-8 (even in an overridden occurrence), a missing id', () => {
    const t = new MeasurementTranscoder(plan);
    const bad = Buffer.concat([Buffer.from(encodeMeasurement({ id: newId(1), startTimeMs: 1 })), Buffer.from([0x12, 0x02, 0xc3, 0x28])]);
    expect(reference(bad)).toBeUndefined();
    expect(transcode(t, bad)).toBeUndefined();
    // probe_id twice: the invalid first one loses, yet protobufjs still rejects it (found by the fuzz test above).
    const overridden = Buffer.concat([Buffer.from(encodeMeasurement({ id: newId(1), startTimeMs: 1 })), Buffer.from([0x12, 0x02, 0xc3, 0x28, 0x12, 0x02, 0x70, 0x32])]);
    expect(reference(overridden)).toBeUndefined();
    expect(transcode(t, overridden)).toBeUndefined();
    const noId = encodeMeasurement({ probeId: 'p', startTimeMs: 1 });
    expect(reference(noId)).toBeUndefined();
    expect(transcode(t, noId)).toBeUndefined();
  });

  it('writes the same key order as the generated toObject for every message type', () => {
    const seen = new Set<MessagePlan>();
    const visit = (p: MessagePlan): void => {
      if (seen.has(p)) return;
      seen.add(p);
      const type = (wire as unknown as Record<string, { create(): unknown; toObject(m: unknown, o: object): object }>)[p.name.replace(/^steppe\.v1\./, '')];
      expect(type, p.name).toBeDefined();
      const keys = Object.keys(type?.toObject(type.create(), { defaults: true, arrays: true, objects: true }) ?? {});
      expect(p.fields.map((f) => f.name)).toEqual(keys);
      for (const f of p.fields) if (f.message !== undefined) visit(f.message);
    };
    visit(plan);
    expect(seen.size).toBeGreaterThan(15);
  });

  it('leaves out default values in omitDefaults mode, keeping every other value', () => {
    const full = new MeasurementTranscoder(plan);
    const compact = new MeasurementTranscoder(plan, { omitDefaults: true });
    const isDefault = (v: unknown): boolean => v === '' || v === 0 || v === false || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
    // Full JSON minus its defaults (recursively; enums at their zero name are
    // defaults too; the fields measurementToJson adds at the top stay).
    const kept = new Set(['verdict', 'anomaly', 'confirmed', 'failure', 'start_time']);
    const strip = (v: unknown, depth: number): unknown => {
      if (Array.isArray(v)) return v.map((x) => strip(x, depth + 1));
      if (typeof v !== 'object' || v === null) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const isObject = typeof x === 'object' && x !== null && !Array.isArray(x);
        const omitted = (isDefault(x) && (!isObject || k === 'annotations')) || (typeof x === 'string' && x.endsWith('_UNSPECIFIED'));
        if (omitted && !(depth === 0 && kept.has(k))) continue;
        out[k] = strip(x, depth + 1);
      }
      return out;
    };
    for (let i = 0; i < 50; i += 1) {
      const raw = encodeMeasurement(realistic(i));
      const a = JSON.parse(transcode(full, raw) ?? 'null') as unknown;
      const b = JSON.parse(transcode(compact, raw) ?? 'null') as unknown;
      expect(b).toEqual(strip(a, 0));
      expect(JSON.stringify(b).length).toBeLessThan(JSON.stringify(a).length);
    }
  });

  it('formats times as Date#toISOString does, from its per-minute cache', () => {
    const times = new IsoTimes();
    fc.assert(fc.property(fc.array(fc.integer({ min: -62_000_000_000_000, max: 250_000_000_000_000 }), { maxLength: 20 }), fc.integer({ min: 0, max: 120_000 }), (starts, step) => {
      for (const start of starts) {
        for (let ms = start; ms < start + 3 * step + 1; ms += step + 1) expect(times.iso(ms)).toBe(new Date(ms).toISOString());
      }
    }), { numRuns: 200 });
    expect(times.iso(8.64e15 + 1)).toBeUndefined();
  });

  it('writes start_time null, as the reference does, for a measurement without a start time', () => {
    const raw = encodeMeasurement({ id: newId(1_607_220_000_000), probeId: 'p1' });
    const actual = transcode(new MeasurementTranscoder(plan), raw);
    expect(actual).toBe(reference(raw));
    expect(JSON.parse(actual ?? '{}')).toMatchObject({ start_time_ms: 0, start_time: null });
  });
});
