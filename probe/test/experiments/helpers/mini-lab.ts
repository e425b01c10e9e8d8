import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import * as dnsPacket from 'dns-packet';
import type { TestPki } from '../../../../shared/test/netx/helpers/certs.js';

/** Source address the probe binds in tests ("in-country"): the censor acts on it. */
export const PROBE_ADDRESS = '127.0.0.2';
/** Source address of the test control vantage ("abroad"). */
export const CONTROL_ADDRESS = '127.0.0.3';

/**
 * A small censorship lab on loopback for engine tests. Every name resolves to
 * 127.0.0.1 (gone.test to 127.0.0.4, where nothing listens); one TLS front
 * serves every site. Towards the probe's source address only, the censor:
 * answers NXDOMAIN for nx.test, resets the TLS handshake carrying SNI
 * blocked.test, re-signs mitm.test with the state root, and resets the first
 * handshake for flaky.test (a glitch that the retry gets past), and
 * swallows every handshake carrying SNI stall.test.
 */
export interface MiniLab {
  readonly resolver: { host: string; port: number };
  readonly port: number;
  /** Handshakes the front saw, by SNI. */
  readonly handshakes: Map<string, number>;
  close(): Promise<void>;
}

function pageFor(host: string): string {
  const filler = 'Steppe lab page. '.repeat(120);
  return `<!doctype html><html><head><title>${host} home page</title></head><body><h1>${host}</h1><p>${filler}</p></body></html>`;
}

// The SNI of a ClientHello: the test censor only needs to see whether a name is in it.
function sniIn(hello: Buffer, names: readonly string[]): string | undefined {
  const text = hello.toString('latin1');
  return names.find((n) => text.includes(n));
}

export async function miniLab(pki: TestPki): Promise<MiniLab> {
  const closers: (() => Promise<void>)[] = [];
  const handshakes = new Map<string, number>();

  // DNS on UDP.
  const udp: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  udp.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg);
    const q = query.questions?.[0];
    const name = q?.name ?? '';
    const censored = rinfo.address === PROBE_ADDRESS;
    let rcode = 0;
    const answers: dnsPacket.Answer[] = [];
    if (censored && name === 'nx.test') rcode = 3;
    else if (q?.type === 'A') answers.push({ type: 'A', name, ttl: 60, class: 'IN', data: name === 'gone.test' ? '127.0.0.4' : '127.0.0.1' });
    udp.send(dnsPacket.encode({ type: 'response', id: query.id ?? 0, flags: dnsPacket.RECURSION_AVAILABLE | rcode, questions: query.questions ?? [], answers }), rinfo.port, rinfo.address);
  });
  closers.push(() => new Promise<void>((resolve) => udp.close(() => resolve())));

  // Web: one HTTP app behind an honest TLS server and a re-signing one.
  const app = createHttpServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0] ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', server: 'lab' }).end(pageFor(host));
  });
  const honest: TlsServer = createTlsServer({ key: pki.valid.key, cert: pki.valid.cert, ALPNProtocols: ['http/1.1'] }, (s) => app.emit('connection', s));
  const mitm: TlsServer = createTlsServer({ key: pki.intercepted.key, cert: pki.intercepted.cert, ALPNProtocols: ['http/1.1'] }, (s) => app.emit('connection', s));
  for (const s of [honest, mitm]) s.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => honest.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => mitm.listen(0, '127.0.0.1', resolve));
  const honestPort = (honest.address() as AddressInfo).port;
  const mitmPort = (mitm.address() as AddressInfo).port;
  closers.push(() => new Promise<void>((resolve) => honest.close(() => resolve())));
  closers.push(() => new Promise<void>((resolve) => mitm.close(() => resolve())));
  let flakyResets = 0;
  const sockets = new Set<Socket>();
  const front: Server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (hello: Buffer) => {
      const sni = sniIn(hello, ['stall.test', 'blocked.test', 'flaky.test', 'mitm.test', 'site.test', 'gone.test', 'nx.test', 'example.org']) ?? '';
      handshakes.set(sni, (handshakes.get(sni) ?? 0) + 1);
      const censored = socket.remoteAddress === PROBE_ADDRESS;
      if (censored && sni === 'blocked.test') {
        socket.resetAndDestroy();
        return;
      }
      // A middlebox that swallows the handshake: the probe's budget runs out.
      if (censored && sni === 'stall.test') return;
      if (censored && sni === 'flaky.test' && flakyResets === 0) {
        flakyResets += 1;
        socket.resetAndDestroy();
        return;
      }
      // Hand the connection to the chosen TLS server through a TCP relay:
      // the ClientHello already read is written first.
      const backend = connect({ host: '127.0.0.1', port: censored && sni === 'mitm.test' ? mitmPort : honestPort });
      sockets.add(backend);
      backend.on('close', () => {
        sockets.delete(backend);
        socket.destroy();
      });
      backend.on('error', () => socket.destroy());
      socket.on('close', () => backend.destroy());
      backend.write(hello);
      socket.pipe(backend);
      backend.pipe(socket);
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        front.close(() => resolve());
      }),
  );
  return {
    resolver: { host: '127.0.0.1', port: udp.address().port },
    port: (front.address() as AddressInfo).port,
    handshakes,
    close: async () => {
      for (const c of closers) await c();
    },
  };
}
