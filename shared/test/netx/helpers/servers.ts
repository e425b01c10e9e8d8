import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';

/** A TCP server whose behaviour per connection is scripted; counts connections. */
export interface ScriptedServer {
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1:0 with `onConnection` for each accepted socket. */
export async function tcpServer(onConnection: (socket: Socket) => void, host = '127.0.0.1'): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server: Server = createServer((socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** How the test DNS server answers one query: packets to send back (in order), or none (silence). */
export type DnsBehaviour = (query: dnsPacket.DecodedPacket, transport: 'udp' | 'tcp') => dnsPacket.Packet[] | 'close';

/** A DNS server on UDP and TCP (same port), answering per `behaviour`. */
export interface TestDnsServer {
  readonly host: string;
  readonly port: number;
  readonly udpQueries: number;
  readonly tcpQueries: number;
  behaviour: DnsBehaviour;
  close(): Promise<void>;
}

/** An answer packet for `query`. */
export function answer(query: dnsPacket.DecodedPacket, options: { rcode?: number; answers?: dnsPacket.Answer[]; flags?: number; id?: number } = {}): dnsPacket.Packet {
  return {
    type: 'response',
    id: options.id ?? query.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (options.flags ?? 0) | (options.rcode ?? 0),
    questions: query.questions ?? [],
    answers: options.answers ?? [],
  };
}

/** An A or AAAA record for the query's name. */
export function addressRecord(query: dnsPacket.DecodedPacket, data: string, ttl = 300): dnsPacket.Answer {
  const q = query.questions?.[0];
  return { type: q?.type === 'AAAA' ? 'AAAA' : 'A', name: q?.name ?? '', ttl, class: 'IN', data } as dnsPacket.Answer;
}

/** Listen on UDP and TCP on one port of `host`: the UDP port first, then TCP on the same number (retried if taken). */
export async function dnsServer(behaviour: DnsBehaviour, host = '127.0.0.1'): Promise<TestDnsServer> {
  const state = { udpQueries: 0, tcpQueries: 0, behaviour };
  for (let tries = 0; ; tries += 1) {
    const udp: UdpSocket = createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, host, resolve));
    const port = udp.address().port;
    let tcp: { close(): Promise<void> };
    try {
      tcp = await tcpServerOnPort(port, host, (socket) => serveTcp(socket, state));
    } catch (err) {
      udp.close();
      if (tries < 10) continue;
      throw err;
    }
    udp.on('message', (msg, rinfo) => {
      state.udpQueries += 1;
      const query = dnsPacket.decode(msg);
      const packets = state.behaviour(query, 'udp');
      if (packets === 'close') return;
      for (const packet of packets) udp.send(dnsPacket.encode(packet), rinfo.port, rinfo.address);
    });
    return {
      host,
      port,
      get udpQueries() {
        return state.udpQueries;
      },
      get tcpQueries() {
        return state.tcpQueries;
      },
      get behaviour() {
        return state.behaviour;
      },
      set behaviour(b: DnsBehaviour) {
        state.behaviour = b;
      },
      close: async () => {
        await tcp.close();
        await new Promise<void>((resolve) => udp.close(() => resolve()));
      },
    };
  }
}

// DNS over TCP: two-byte length prefix per message (RFC 1035 §4.2.2).
function serveTcp(socket: Socket, state: { tcpQueries: number; behaviour: DnsBehaviour }): void {
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (buffered.length < 2) return;
    const length = buffered.readUInt16BE(0);
    if (buffered.length < 2 + length) return;
    state.tcpQueries += 1;
    const query = dnsPacket.decode(buffered.subarray(2, 2 + length));
    buffered = buffered.subarray(2 + length);
    const packets = state.behaviour(query, 'tcp');
    if (packets === 'close') {
      socket.end();
      return;
    }
    for (const packet of packets) socket.write(dnsPacket.streamEncode(packet));
  });
}

async function tcpServerOnPort(port: number, host: string, onConnection: (socket: Socket) => void): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
