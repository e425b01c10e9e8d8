import { asObject, asString } from './json-value.js';

/**
 * OONI's MaybeBinaryData (ooni/spec data-formats/df-001-httpt.md): a UTF-8
 * string when the bytes are valid UTF-8, otherwise `{"format": "base64",
 * "data": "..."}`. Certificates are always the BinaryData form
 * (df-006-tlshandshake.md `peer_certificates`).
 */
export type MaybeBinaryData = string | { format: 'base64'; data: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as MaybeBinaryData: a string when they are valid UTF-8. */
export function toMaybeBinaryData(bytes: Uint8Array): MaybeBinaryData {
  try {
    return utf8.decode(bytes);
  } catch {
    return { format: 'base64', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
  }
}

/** Bytes as BinaryData (always base64). */
export function toBinaryData(bytes: Uint8Array): { format: 'base64'; data: string } {
  return { format: 'base64', data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** The bytes of a MaybeBinaryData value; undefined when it is neither form. */
export function fromMaybeBinaryData(value: unknown): Uint8Array | undefined {
  const text = asString(value);
  if (text !== undefined) return new Uint8Array(Buffer.from(text, 'utf8'));
  const o = asObject(value);
  const data = asString(o?.['data']);
  if (o === undefined || data === undefined) return undefined;
  const format = asString(o['format']) ?? 'base64';
  if (format !== 'base64') return undefined;
  return new Uint8Array(Buffer.from(data, 'base64'));
}
