import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseClientHello } from '../lab/src/client-hello.js';

// Real ClientHellos captured on loopback (the first flight of bytes, hex):
// node 20's tls.connect with SNI www.facebook.com and ALPN h2,http/1.1, and
// `openssl s_client -servername instagram.com -alpn http/1.1` (OpenSSL 3.0).
function fixture(name: string): Buffer {
  return Buffer.from(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').replace(/\s+/g, ''), 'hex');
}
const NODE_HELLO = fixture('client-hello-node20-www.facebook.com.hex');
const OPENSSL_HELLO = fixture('client-hello-openssl3-instagram.com.hex');

/** Build a ClientHello by hand (RFC 8446 §4.1.2), with any extensions. */
function clientHello(extensions: Buffer | undefined): Buffer {
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // empty session id
    u16(2), u16(0x1301), // one cipher suite
    Buffer.from([1, 0]), // null compression
    ...(extensions === undefined ? [] : [u16(extensions.length), extensions]),
  ]);
  return Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type >> 8, type & 0xff, data.length >> 8, data.length & 0xff]), data]);
}

function sni(name: string, nameType = 0): Buffer {
  const host = Buffer.from(name, 'latin1');
  const entry = Buffer.concat([Buffer.from([nameType, host.length >> 8, host.length & 0xff]), host]);
  return extension(0, Buffer.concat([Buffer.from([entry.length >> 8, entry.length & 0xff]), entry]));
}

function alpn(...protocols: string[]): Buffer {
  const list = Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])));
  return extension(16, Buffer.concat([Buffer.from([list.length >> 8, list.length & 0xff]), list]));
}

/** Wrap a handshake message in records of at most `size` bytes each. */
function records(handshake: Buffer, size = 16_384): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < handshake.length; at += size) {
    const fragment = handshake.subarray(at, at + size);
    out.push(Buffer.from([22, 3, 1, fragment.length >> 8, fragment.length & 0xff]), fragment);
  }
  return Buffer.concat(out);
}

describe('parseClientHello', () => {
  it('reads the SNI and ALPN of a real node 20 ClientHello', () => {
    const result = parseClientHello(NODE_HELLO);
    expect(result).toMatchObject({ status: 'complete', serverName: 'www.facebook.com', alpn: ['h2', 'http/1.1'], legacyVersion: 0x0303 });
    if (result.status === 'complete') expect(result.length).toBe(NODE_HELLO.length);
  });

  it('reads the SNI of a real OpenSSL 3 ClientHello', () => {
    expect(parseClientHello(OPENSSL_HELLO)).toMatchObject({ status: 'complete', serverName: 'instagram.com', alpn: ['http/1.1'] });
  });

  it('says incomplete for every strict prefix of a real ClientHello', () => {
    for (let cut = 0; cut < NODE_HELLO.length; cut += 1) {
      expect(parseClientHello(NODE_HELLO.subarray(0, cut)).status, `prefix of ${cut} bytes`).toBe('incomplete');
    }
  });

  it('reassembles a ClientHello split over several records', () => {
    const hello = clientHello(Buffer.concat([sni('www.youtube.com'), alpn('h2')]));
    const split = records(hello, 10);
    expect(split.length).toBeGreaterThan(hello.length + 5 * 5);
    expect(parseClientHello(split)).toMatchObject({ status: 'complete', serverName: 'www.youtube.com', alpn: ['h2'], length: split.length });
    expect(parseClientHello(split.subarray(0, split.length - 1)).status).toBe('incomplete');
  });

  it('ignores bytes after the ClientHello (early data, a second flight)', () => {
    const hello = records(clientHello(sni('vlast.kz')));
    const result = parseClientHello(Buffer.concat([hello, Buffer.from([23, 3, 3, 0, 1, 0])]));
    expect(result).toMatchObject({ status: 'complete', serverName: 'vlast.kz', length: hello.length });
  });

  it('reports no server name when the client sends none, or no extensions at all', () => {
    expect(parseClientHello(records(clientHello(alpn('http/1.1'))))).toMatchObject({ status: 'complete', serverName: undefined });
    expect(parseClientHello(records(clientHello(undefined)))).toMatchObject({ status: 'complete', serverName: undefined, alpn: [] });
  });

  it('lower-cases the server name and skips non-host_name entries', () => {
    expect(parseClientHello(records(clientHello(sni('WWW.Facebook.COM'))))).toMatchObject({ serverName: 'www.facebook.com' });
    expect(parseClientHello(records(clientHello(sni('x', 1))))).toMatchObject({ status: 'complete', serverName: undefined });
  });

  it('rejects what is not a TLS handshake', () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: facebook.com\r\n\r\n'))).toMatchObject({ status: 'invalid' });
    expect(parseClientHello(Buffer.from([23, 3, 3, 0, 5, 1, 2, 3, 4, 5]))).toMatchObject({ status: 'invalid', reason: expect.stringContaining('record type 23') });
    expect(parseClientHello(Buffer.from([22, 2, 0, 0, 5, 1, 0, 0, 1, 0]))).toMatchObject({ status: 'invalid', reason: expect.stringContaining('major 2') });
    expect(parseClientHello(Buffer.from([22, 3, 1, 0x48, 0x01]))).toMatchObject({ status: 'invalid', reason: expect.stringContaining('record length') });
    // A ServerHello (handshake type 2) where a ClientHello should be.
    expect(parseClientHello(Buffer.from([22, 3, 3, 0, 4, 2, 0, 0, 0]))).toMatchObject({ status: 'invalid', reason: expect.stringContaining('handshake type 2') });
  });

  it('rejects a ClientHello larger than the cap before buffering it', () => {
    const header = Buffer.from([22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00]); // claims 65 536 bytes
    expect(parseClientHello(header, 1024)).toMatchObject({ status: 'invalid', reason: expect.stringContaining('exceeds') });
  });

  it('rejects malformed bodies: a truncated extension, a bad SNI, an odd cipher list', () => {
    const good = clientHello(sni('facebook.com'));
    const truncated = Buffer.from(good);
    // Claim more extension bytes than there are (the length sits right after compression methods).
    truncated.writeUInt16BE(good.length, 4 + 2 + 32 + 1 + 4 + 2);
    expect(parseClientHello(records(truncated))).toMatchObject({ status: 'invalid', reason: expect.stringContaining('malformed') });
    expect(parseClientHello(records(clientHello(sni('face book.com'))))).toMatchObject({ status: 'invalid', reason: expect.stringContaining('server_name') });
    const oddSuites = Buffer.from(good);
    oddSuites.writeUInt16BE(1, 4 + 2 + 32 + 1);
    expect(parseClientHello(records(oddSuites)).status).toBe('invalid');
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const result = parseClientHello(bytes);
      expect(['incomplete', 'invalid', 'complete']).toContain(result.status);
    }), { numRuns: 500 });
    // Mutations of a real ClientHello.
    fc.assert(fc.property(fc.nat(NODE_HELLO.length - 1), fc.integer({ min: 0, max: 255 }), (at, value) => {
      const mutated = Buffer.from(NODE_HELLO);
      mutated[at] = value;
      expect(['incomplete', 'invalid', 'complete']).toContain(parseClientHello(mutated).status);
    }), { numRuns: 500 });
  });
});
