/**
 * A pure parser of the first bytes a TLS client sends, to read the server
 * name (SNI) the way a censoring middlebox does before deciding to reset,
 * stall or intercept.
 *
 * Formats: TLS record layer (RFC 8446 §5.1: type 22 = handshake, 2-byte legacy
 * version, 2-byte length); handshake header (§4: type 1 = client_hello, 3-byte
 * length), which may span several records; ClientHello body (§4.1.2); the
 * server_name extension (type 0, RFC 6066 §3) and ALPN (type 16, RFC 7301).
 */

/** The outcome of looking at the bytes received so far. */
export type ClientHelloResult =
  /** More bytes are needed; feed the buffer again when they arrive. */
  | { readonly status: 'incomplete' }
  /** These bytes are not (or not a well-formed) TLS ClientHello. */
  | { readonly status: 'invalid'; readonly reason: string }
  | {
      readonly status: 'complete';
      /** The host_name of the server_name extension, undefined when the client sent none. */
      readonly serverName: string | undefined;
      /** ALPN protocol names offered, in order. */
      readonly alpn: readonly string[];
      /** legacy_version of the ClientHello (0x0303 for TLS 1.2 and 1.3). */
      readonly legacyVersion: number;
      /** Bytes of the records that carried the ClientHello. */
      readonly length: number;
    };

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
/** RFC 8446 §5.1: a record's plaintext fragment is at most 2^14 bytes. */
const MAX_FRAGMENT = 16_384;
const EXTENSION_SERVER_NAME = 0;
const EXTENSION_ALPN = 16;
const NAME_TYPE_HOST = 0;

/** Default cap on the size of a ClientHello the parser accepts. */
export const MAX_CLIENT_HELLO_BYTES = 65_536;

class Truncated extends Error {}

/** A bounds-checked big-endian reader over one handshake message. */
class Reader {
  #offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.#offset;
  }

  u8(): number {
    if (this.remaining < 1) throw new Truncated('u8');
    const value = this.bytes[this.#offset] ?? 0;
    this.#offset += 1;
    return value;
  }

  u16(): number {
    return (this.u8() << 8) | this.u8();
  }

  u24(): number {
    return (this.u8() << 16) | (this.u8() << 8) | this.u8();
  }

  take(length: number): Uint8Array {
    if (this.remaining < length) throw new Truncated(`take ${length}`);
    const out = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  /** A reader over the next `u8`/`u16`-length-prefixed vector. */
  vector(lengthBytes: 1 | 2): Reader {
    return new Reader(this.take(lengthBytes === 1 ? this.u8() : this.u16()));
  }
}

function ascii(bytes: Uint8Array): string | undefined {
  let out = '';
  for (const b of bytes) {
    if (b < 0x21 || b > 0x7e) return undefined;
    out += String.fromCharCode(b);
  }
  return out;
}

/**
 * Look at `bytes` (everything received so far on a connection) and say
 * whether they hold a complete ClientHello, and if so its server name.
 * Never throws.
 */
export function parseClientHello(bytes: Uint8Array, maxBytes: number = MAX_CLIENT_HELLO_BYTES): ClientHelloResult {
  // Reassemble the handshake message from as many records as it spans.
  const fragments: Uint8Array[] = [];
  let gathered = 0;
  let offset = 0;
  let needed: number | undefined;
  for (;;) {
    if (needed !== undefined && gathered >= needed) break;
    if (bytes.length - offset < RECORD_HEADER) return { status: 'incomplete' };
    const type = bytes[offset] ?? 0;
    const major = bytes[offset + 1] ?? 0;
    const length = ((bytes[offset + 3] ?? 0) << 8) | (bytes[offset + 4] ?? 0);
    if (type !== CONTENT_HANDSHAKE) return { status: 'invalid', reason: `record type ${type}, not handshake (22)` };
    if (major !== 3) return { status: 'invalid', reason: `record version major ${major}, not 3` };
    if (length === 0 || length > MAX_FRAGMENT) return { status: 'invalid', reason: `record length ${length}` };
    if (bytes.length - offset - RECORD_HEADER < length) return { status: 'incomplete' };
    fragments.push(bytes.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + length));
    gathered += length;
    offset += RECORD_HEADER + length;
    if (needed === undefined && gathered >= HANDSHAKE_HEADER) {
      const head = concat(fragments, HANDSHAKE_HEADER);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return { status: 'invalid', reason: `handshake type ${head[0] ?? 0}, not client_hello (1)` };
      const bodyLength = ((head[1] ?? 0) << 16) | ((head[2] ?? 0) << 8) | (head[3] ?? 0);
      if (bodyLength + HANDSHAKE_HEADER > maxBytes) return { status: 'invalid', reason: `client_hello of ${bodyLength} bytes exceeds ${maxBytes}` };
      needed = HANDSHAKE_HEADER + bodyLength;
    }
    if (offset > maxBytes + RECORD_HEADER * 8) return { status: 'invalid', reason: 'too many bytes before a complete client_hello' };
  }
  const message = concat(fragments, needed);
  try {
    return { ...parseBody(new Reader(message.subarray(HANDSHAKE_HEADER))), status: 'complete', length: offset };
  } catch (err) {
    if (err instanceof Truncated) return { status: 'invalid', reason: `malformed client_hello (${err.message})` };
    return { status: 'invalid', reason: err instanceof Error ? err.message : String(err) };
  }
}

function concat(fragments: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const fragment of fragments) {
    if (at >= length) break;
    const part = fragment.subarray(0, length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function parseBody(body: Reader): { serverName: string | undefined; alpn: string[]; legacyVersion: number } {
  const legacyVersion = body.u16();
  body.take(32); // random
  body.vector(1); // legacy_session_id
  const suites = body.vector(2);
  if (suites.remaining === 0 || suites.remaining % 2 !== 0) throw new Error('malformed client_hello (cipher_suites)');
  body.vector(1); // legacy_compression_methods
  let serverName: string | undefined;
  const alpn: string[] = [];
  // Extensions are optional in TLS 1.2 (RFC 5246 §7.4.1.2): absent means no SNI.
  if (body.remaining > 0) {
    const extensions = body.vector(2);
    while (extensions.remaining > 0) {
      const type = extensions.u16();
      const data = extensions.vector(2);
      if (type === EXTENSION_SERVER_NAME) serverName = readServerName(data);
      else if (type === EXTENSION_ALPN) alpn.push(...readAlpn(data));
    }
  }
  return { serverName, alpn, legacyVersion };
}

function readServerName(data: Reader): string | undefined {
  const list = data.vector(2);
  while (list.remaining > 0) {
    const nameType = list.u8();
    const name = list.vector(2);
    if (nameType === NAME_TYPE_HOST) {
      const text = ascii(name.take(name.remaining));
      if (text === undefined || text.length === 0) throw new Error('malformed client_hello (server_name is not an ASCII host name)');
      return text.toLowerCase();
    }
  }
  return undefined;
}

function readAlpn(data: Reader): string[] {
  const list = data.vector(2);
  const out: string[] = [];
  while (list.remaining > 0) {
    const name = list.vector(1);
    out.push(ascii(name.take(name.remaining)) ?? '');
  }
  return out;
}
