import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { plainAddress } from './addresses.js';
import type { Censor } from './censor.js';
import { type DnsPlan, planDnsReply } from './dns-answer.js';
import { resetOnFirstData } from './front.js';
import type { LabLog } from './event-log.js';
import type { NetworkTable } from './networks.js';

/** What the resolver needs from the lab. */
export interface ResolverContext {
  readonly zone: ReadonlyMap<string, string>;
  readonly censor: Censor;
  readonly networks: NetworkTable;
  readonly log: LabLog;
  readonly blockpageAddress: string;
  /**
   * A public resolver outside the censor's networks (like 8.8.8.8): the
   * censor's resolver rules do not reach it, only what acts on the path
   * (`dns-inject`, `shutdown`).
   */
  readonly public?: boolean;
}

// What a censor does on the path, to queries for any resolver.
const ON_PATH: ReadonlySet<string> = new Set(['dns-inject', 'shutdown']);

/** Largest DNS message over TCP (2-byte length prefix, RFC 1035 §4.2.2). */
const MAX_TCP_MESSAGE = 65_535;

/**
 * The lab's resolver, over UDP and TCP on the same address and port. It is
 * authoritative for the lab's hosts only (never forwards anywhere) and
 * applies the censor's DNS rules by the source address of each query (a
 * public resolver only those that act on the path).
 */
export class LabResolver {
  readonly #context: ResolverContext;
  readonly #udp: UdpSocket;
  readonly #tcp: Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  private constructor(context: ResolverContext, udp: UdpSocket, tcp: Server) {
    this.#context = context;
    this.#udp = udp;
    this.#tcp = tcp;
    udp.on('message', (message, rinfo) => this.#onDatagram(message, rinfo.address, rinfo.port));
    // A send error (the client went away) is not the resolver's problem.
    udp.on('error', () => undefined);
    tcp.on('connection', (socket) => this.#onConnection(socket));
  }

  /**
   * Bind UDP and TCP on `host:port` (port 0: the same free port for both,
   * retried until one is free on both).
   */
  static async start(context: ResolverContext, host: string, port: number): Promise<LabResolver> {
    for (let attempt = 0; ; attempt += 1) {
      const udp = createSocket({ type: 'udp4' });
      const tcp = createServer({ pauseOnConnect: false });
      try {
        const bound = await new Promise<number>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ address: host, port, exclusive: true }, () => {
            udp.off('error', reject);
            resolve(udp.address().port);
          });
        });
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({ host, port: bound, backlog: 1024 }, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        return new LabResolver(context, udp, tcp);
      } catch (err) {
        udp.close();
        tcp.close();
        if (port !== 0 || attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
  }

  /** The bound address. */
  get host(): string {
    return this.#udp.address().address;
  }

  /** The bound port (UDP and TCP). */
  get port(): number {
    return this.#udp.address().port;
  }

  #plan(message: Buffer, source: string, transport: 'udp' | 'tcp'): DnsPlan {
    const { censor, networks, zone, log, blockpageAddress } = this.#context;
    const network = networks.lookup(source);
    const name = peekName(message);
    const matched = censor.match('dns', name, network);
    const rule = this.#context.public === true && matched !== undefined && !ON_PATH.has(matched.behaviour.kind) ? undefined : matched;
    const plan = planDnsReply(message, { zone, rule, blockpageAddress, transport });
    log.record({ kind: 'dns-query', transport, source, network: network?.id, name: plan.name, type: plan.type, action: plan.action });
    return plan;
  }

  #later(delayMs: number, send: () => void): void {
    if (delayMs <= 0) {
      send();
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) send();
    }, delayMs);
    this.#timers.add(timer);
  }

  #onDatagram(message: Buffer, address: string, port: number): void {
    const plan = this.#plan(message, plainAddress(address), 'udp');
    for (const reply of plan.replies) {
      this.#later(reply.delayMs, () => this.#udp.send(reply.bytes, port, address));
    }
  }

  #onConnection(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const source = plainAddress(socket.remoteAddress);
    const shutdown = this.#context.censor.match('dns', undefined, this.#context.networks.lookup(source));
    if (shutdown?.behaviour.kind === 'shutdown' && shutdown.behaviour.mode === 'reset') {
      resetOnFirstData(socket);
      return;
    }
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (length === 0 || length > MAX_TCP_MESSAGE) {
          socket.destroy();
          return;
        }
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        const plan = this.#plan(Buffer.from(message), source, 'tcp');
        for (const reply of plan.replies) {
          this.#later(reply.delayMs, () => {
            if (socket.destroyed) return;
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(reply.bytes.length, 0);
            socket.write(Buffer.concat([prefix, reply.bytes]));
          });
        }
      }
    });
  }

  /** Stop answering, drop pending replies and connections. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.#tcp.close(() => resolve())),
      new Promise<void>((resolve) => this.#udp.close(() => resolve())),
    ]);
  }
}

/** The question name of a query, read cheaply for rule matching (undefined if unreadable). */
function peekName(message: Buffer): string | undefined {
  // Header (12 bytes), then QNAME as length-prefixed labels (RFC 1035 §4.1.2).
  const labels: string[] = [];
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset] ?? 0;
    if (length === 0) return labels.join('.').toLowerCase();
    if (length > 63 || offset + 1 + length > message.length) return undefined;
    labels.push(message.toString('latin1', offset + 1, offset + 1 + length));
    offset += 1 + length;
  }
  return undefined;
}
