import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { wire } from '../src/index.js';

// Every 64-bit integer field of the schema, found by reflection over the
// .proto (never a hand-kept list): the generated code must read each as a
// JavaScript number, 0 when absent (proto/runtime.js, dd-001).
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

interface LongField {
  readonly type: string;
  readonly field: string;
  readonly repeated: boolean;
}

function longFields(): LongField[] {
  const root = protobuf.loadSync(createRequire(import.meta.url).resolve('@steppe/proto/steppe/v1/steppe.proto'));
  const out: LongField[] = [];
  const visit = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        for (const f of nested.fieldsArray) {
          if (LONG_TYPES.has(f.type)) out.push({ type: nested.name, field: f.name, repeated: f.repeated });
        }
      }
      if (nested instanceof protobuf.Namespace) visit(nested);
    }
  };
  visit(root.lookup('steppe.v1') as protobuf.Namespace);
  return out;
}

interface GeneratedType {
  readonly prototype: Record<string, unknown>;
  encode(message: Record<string, unknown>): { finish(): Uint8Array };
  decode(bytes: Uint8Array): Record<string, unknown>;
  toObject(message: Record<string, unknown>, options: Record<string, unknown>): Record<string, unknown>;
}

function generated(name: string): GeneratedType {
  return (wire as unknown as Record<string, GeneratedType>)[name] as GeneratedType;
}

describe('64-bit integers in the generated code', () => {
  const fields = longFields();

  it('finds the schema’s 64-bit fields', () => {
    expect(fields.map((f) => `${f.type}.${f.field}`)).toEqual(expect.arrayContaining(['Measurement.startTimeMs', 'BatchHeader.sequence', 'HttpRequest.bodyLength', 'ThroughputSample.bytes', 'ControlMeasurement.measuredAtMs']));
  });

  it.each(fields.map((f) => [`${f.type}.${f.field}`, f] as const))('%s is a number: 0 when absent, exact up to 2^53', (_name, f) => {
    const T = generated(f.type);
    expect(f.repeated).toBe(false);
    expect(T.prototype[f.field]).toBe(0);
    const absent = T.decode(new Uint8Array(0));
    expect(typeof absent[f.field]).toBe('number');
    expect(absent[f.field]).toBe(0);
    expect(T.toObject(absent, { defaults: true })[f.field]).toBe(0);
    const big = Number.MAX_SAFE_INTEGER;
    const present = T.decode(T.encode({ [f.field]: big }).finish());
    expect(typeof present[f.field]).toBe('number');
    expect(present[f.field]).toBe(big);
    expect(T.toObject(present, {})[f.field]).toBe(big);
  });
});
