import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import protobuf from 'protobufjs';
import { jsonFieldName } from '@steppe/shared';
import { Fragment } from './byte-writer.js';

/**
 * Field tables for writing a message's JSON straight from its wire bytes
 * (measurement-transcoder.ts), built once from the .proto by protobufjs
 * reflection — never hand-copied.
 *
 * The JSON is `measurementToJson()`'s (shared/src/measurement-json.ts), which
 * is protobufjs `toObject({ defaults, arrays, objects, longs: Number, enums:
 * String, bytes: String })` with snake_case keys and byte conversions. Its key
 * order is toObject's: protobufjs's converter sorts the fields by number and
 * emits repeated fields first, then maps, then the others
 * (protobufjs/src/converter.js); a test checks the tables against the
 * generated code's own `toObject` for every message type.
 */

/** How a field's value is read from the wire and written as JSON. */
export const FIELD_KIND = {
  string: 0,
  bytes: 1,
  bool: 2,
  double: 3,
  float: 4,
  uint32: 5,
  int32: 6,
  uint64: 7,
  int64: 8,
  enum: 9,
  message: 10,
  stringMap: 11,
} as const;
export type FieldKind = (typeof FIELD_KIND)[keyof typeof FIELD_KIND];

/** JSON forms of `bytes` fields (measurementToJson's conversions). */
export const BYTES_FORM = { base64: 0, hex: 1, pem: 2, uuid: 3 } as const;
export type BytesForm = (typeof BYTES_FORM)[keyof typeof BYTES_FORM];

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** One field of a message plan. */
export interface FieldPlan {
  /** Field number. */
  readonly number: number;
  /** protobufjs's camelCase name. */
  readonly name: string;
  /** The JSON key (snake_case, as measurementToJson writes it). */
  readonly key: string;
  /** `"key":` as UTF-8 bytes. */
  readonly keyBytes: Buffer;
  /** `"key":` and `,"key":` as fragments. */
  readonly keyFragment: Fragment;
  readonly commaKeyFragment: Fragment;
  /** `"key":default` and `,"key":default`: an absent field in one copy. */
  readonly defaultMember: Fragment;
  readonly commaDefaultMember: Fragment;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  /** The wire type protobufjs's decoder accepts for the field (others are skipped as unknown). */
  readonly wireType: number;
  readonly bytesForm: BytesForm;
  /** JSON of the value when absent (defaults are written). */
  readonly defaultJson: Buffer;
  /** Sub-message plan (kind message); set after all plans exist. */
  message: MessagePlan | undefined;
  /** Enum value → JSON string bytes of its name (kind enum). */
  readonly enumNames: ReadonlyMap<number, Buffer> | undefined;
  /** A slot the transcoder records the decoded value in (-1: none); set by the transcoder. */
  capture: number;
}

/** The plan of one message type. */
export interface MessagePlan {
  /** Fully qualified name, e.g. "steppe.v1.Measurement". */
  readonly name: string;
  /** Fields in the order the JSON writes them. */
  readonly fields: readonly FieldPlan[];
  /** Field number → index in `fields`, -1 when unknown. */
  readonly indexByNumber: Int16Array;
}

/** A schema feature the transcoder does not handle (the caller falls back to decode + measurementToJson). */
export class UnsupportedSchemaError extends Error {}

const SCALAR: Readonly<Record<string, { kind: FieldKind; wireType: number; defaultJson: string }>> = {
  string: { kind: FIELD_KIND.string, wireType: WIRE_LEN, defaultJson: '""' },
  bytes: { kind: FIELD_KIND.bytes, wireType: WIRE_LEN, defaultJson: '""' },
  bool: { kind: FIELD_KIND.bool, wireType: WIRE_VARINT, defaultJson: 'false' },
  double: { kind: FIELD_KIND.double, wireType: WIRE_I64, defaultJson: '0' },
  float: { kind: FIELD_KIND.float, wireType: WIRE_I32, defaultJson: '0' },
  uint32: { kind: FIELD_KIND.uint32, wireType: WIRE_VARINT, defaultJson: '0' },
  int32: { kind: FIELD_KIND.int32, wireType: WIRE_VARINT, defaultJson: '0' },
  uint64: { kind: FIELD_KIND.uint64, wireType: WIRE_VARINT, defaultJson: '0' },
  int64: { kind: FIELD_KIND.int64, wireType: WIRE_VARINT, defaultJson: '0' },
};

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

function bytesFormOf(key: string, repeated: boolean, root: boolean): BytesForm {
  // measurementToJson: the top-level id becomes a UUID; `peer_certificates`
  // entries become PEM, `measurement_sha256` entries hex; a singular field
  // whose key ends in sha256 becomes hex (other repeated ones stay base64:
  // that conversion applies to strings only).
  if (root && key === 'id' && !repeated) return BYTES_FORM.uuid;
  if (key === 'peer_certificates' && repeated) return BYTES_FORM.pem;
  if (key === 'measurement_sha256' && repeated) return BYTES_FORM.hex;
  if (key.endsWith('sha256') && !repeated) return BYTES_FORM.hex;
  return BYTES_FORM.base64;
}

function fieldPlan(field: protobuf.Field, root: boolean): FieldPlan {
  const plan = fieldPlanWithoutFragments(field, root);
  const comma = Buffer.concat([Buffer.from(','), plan.keyBytes]);
  return {
    ...plan,
    keyFragment: new Fragment(plan.keyBytes),
    commaKeyFragment: new Fragment(comma),
    defaultMember: new Fragment(Buffer.concat([plan.keyBytes, plan.defaultJson])),
    commaDefaultMember: new Fragment(Buffer.concat([comma, plan.defaultJson])),
  };
}

function fieldPlanWithoutFragments(field: protobuf.Field, root: boolean): Omit<FieldPlan, 'keyFragment' | 'commaKeyFragment' | 'defaultMember' | 'commaDefaultMember'> {
  const key = jsonFieldName(field.name);
  const base = {
    number: field.id,
    name: field.name,
    key,
    keyBytes: utf8(`${JSON.stringify(key)}:`),
    message: undefined,
    capture: -1,
  };
  if (field instanceof protobuf.MapField) {
    if (field.keyType !== 'string' || field.type !== 'string') throw new UnsupportedSchemaError(`map field ${field.fullName}: only map<string, string>`);
    return { ...base, kind: FIELD_KIND.stringMap, repeated: false, wireType: WIRE_LEN, bytesForm: BYTES_FORM.base64, defaultJson: utf8('{}'), enumNames: undefined };
  }
  const repeated = field.repeated;
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    return { ...base, kind: FIELD_KIND.message, repeated, wireType: WIRE_LEN, bytesForm: BYTES_FORM.base64, defaultJson: utf8(repeated ? '[]' : 'null'), enumNames: undefined };
  }
  if (resolved instanceof protobuf.Enum) {
    if (repeated) throw new UnsupportedSchemaError(`repeated enum ${field.fullName}`);
    const names = new Map<number, Buffer>();
    // toObject writes Enum[value]; with aliases that is the name declared last.
    for (const [name, value] of Object.entries(resolved.values)) names.set(value, utf8(JSON.stringify(name)));
    const zero = names.get(0);
    return { ...base, kind: FIELD_KIND.enum, repeated, wireType: WIRE_VARINT, bytesForm: BYTES_FORM.base64, defaultJson: zero ?? utf8('0'), enumNames: names };
  }
  const scalar = SCALAR[field.type];
  if (scalar === undefined) throw new UnsupportedSchemaError(`field ${field.fullName} of type ${field.type}`);
  if (key.endsWith('sha256') && scalar.kind !== FIELD_KIND.bytes) throw new UnsupportedSchemaError(`field ${field.fullName}: a non-bytes *sha256 field`);
  if (repeated && scalar.kind !== FIELD_KIND.string && scalar.kind !== FIELD_KIND.bytes) throw new UnsupportedSchemaError(`repeated ${field.type} field ${field.fullName} (packed encoding)`);
  return {
    ...base,
    kind: scalar.kind,
    repeated,
    wireType: scalar.wireType,
    bytesForm: scalar.kind === FIELD_KIND.bytes ? bytesFormOf(key, repeated, root) : BYTES_FORM.base64,
    defaultJson: utf8(repeated ? '[]' : scalar.defaultJson),
    enumNames: undefined,
  };
}

function orderOf(f: protobuf.Field): number {
  if (f instanceof protobuf.MapField) return 1;
  return f.repeated ? 0 : 2;
}

/** Build the plans of `rootType` and every message type it reaches. */
export function buildPlans(root: protobuf.Root, rootType: string): MessagePlan {
  const plans = new Map<string, MessagePlan>();
  const pending: { field: FieldPlan; type: protobuf.Type }[] = [];
  const planOf = (type: protobuf.Type, isRoot: boolean): MessagePlan => {
    const known = plans.get(type.fullName);
    if (known !== undefined) return known;
    if (type.oneofsArray.length > 0) throw new UnsupportedSchemaError(`message ${type.fullName} has a oneof`);
    const sorted = [...type.fieldsArray].sort((a, b) => orderOf(a) - orderOf(b) || a.id - b.id);
    const fields = sorted.map((f) => fieldPlan(f, isRoot));
    const max = fields.reduce((m, f) => Math.max(m, f.number), 0);
    if (max > 4096) throw new UnsupportedSchemaError(`message ${type.fullName}: field numbers above 4096`);
    const indexByNumber = new Int16Array(max + 1).fill(-1);
    fields.forEach((f, i) => {
      indexByNumber[f.number] = i;
    });
    const plan: MessagePlan = { name: type.fullName.replace(/^\./, ''), fields, indexByNumber };
    plans.set(type.fullName, plan);
    sorted.forEach((f, i) => {
      const fp = fields[i];
      if (fp !== undefined && fp.kind === FIELD_KIND.message && f.resolvedType instanceof protobuf.Type) pending.push({ field: fp, type: f.resolvedType });
    });
    return plan;
  };
  const top = planOf(root.lookupType(rootType), true);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) next.field.message = planOf(next.type, false);
  return top;
}

let measurementPlan: MessagePlan | UnsupportedSchemaError | undefined;

/**
 * The plan of steppe.v1.Measurement, built on first use from
 * proto/steppe/v1/steppe.proto (the file @steppe/proto ships). An
 * UnsupportedSchemaError when the schema uses something the transcoder does
 * not handle: exports then take the decode + measurementToJson path.
 */
export function measurementJsonPlan(): MessagePlan | UnsupportedSchemaError {
  if (measurementPlan === undefined) {
    try {
      const path = createRequire(import.meta.url).resolve('@steppe/proto/steppe/v1/steppe.proto');
      const root = protobuf.parse(readFileSync(path, 'utf8'), { keepCase: false }).root;
      root.resolveAll();
      measurementPlan = buildPlans(root, 'steppe.v1.Measurement');
    } catch (err) {
      measurementPlan = err instanceof UnsupportedSchemaError ? err : new UnsupportedSchemaError(`cannot read the wire schema: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return measurementPlan;
}
