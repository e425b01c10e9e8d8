import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { plainAddress } from './addresses.js';
import type { Censor } from './censor.js';
import { type ClientHelloResult, MAX_CLIENT_HELLO_BYTES, parseClientHello } from './client-hello.js';
import type { LabAction, LabLog } from './event-log.js';
import type { LabNetwork, NetworkTable } from './networks.js';
import type { LabSite } from './sites.js';

/** How long a front waits for a complete ClientHello before dropping the connection. */
const CLIENT_HELLO_TIMEOUT_MS = 30_000;

/** What a site's front needs from the lab. */
export interface FrontContext {
  readonly censor: Censor;
  readonly networks: NetworkTable;
  readonly log: LabLog;
  /** Plain HTTP server (not listening) that serves accepted connections. */
  readonly httpServer: HttpServer;
  /** The site's own HTTPS server (its certificate), by domain. */
  readonly originServers: ReadonlyMap<string, HttpsServer>;
  /** The interception middlebox: terminates TLS with forged leaves. */
  readonly interceptServer: HttpsServer;
  /** Every open client socket (closed with the lab). */
  readonly sockets: Set<Socket>;
  /** Raw sockets of TLS connections by "remoteAddress:remotePort", for resets after the request. */
  readonly rawSockets: Map<string, Socket>;
}

/**
 * Accept one connection to a site's address and play the censor on it:
 * first the TCP stage (by the site connected to), then, for HTTPS, the TLS
 * stage (by the SNI the ClientHello carries, read with a pure parser before a
 * single byte goes back), then hand the connection, untouched, to the site or
 * to the interception middlebox.
 */
export function acceptConnection(socket: Socket, site: LabSite, scheme: 'http' | 'https', context: FrontContext): void {
  const source = plainAddress(socket.remoteAddress);
  const network = context.networks.lookup(source);
  const key = `${source}:${socket.remotePort ?? 0}`;
  context.sockets.add(socket);
  socket.on('close', () => {
    context.sockets.delete(socket);
    if (context.rawSockets.get(key) === socket) context.rawSockets.delete(key);
  });
  // A client that goes away is data, not a crash.
  socket.on('error', () => socket.destroy());

  const action = tcpStage(socket, site, network, context);
  context.log.record({ kind: 'connection', source, network: network?.id, domain: site.domain, scheme, action });
  if (action !== 'pass') return;
  if (scheme === 'http') {
    context.httpServer.emit('connection', socket);
    return;
  }
  context.rawSockets.set(key, socket);
  readClientHello(socket, (hello, bytes) => {
    const sni = hello.status === 'complete' ? hello.serverName : undefined;
    const tcpRule = context.censor.match('tcp', site.domain, network);
    if (tcpRule?.behaviour.kind === 'flaky' && context.censor.flakyShouldFail(tcpRule, site.domain, source)) {
      context.log.record({ kind: 'client-hello', source, network: network?.id, domain: site.domain, sni, action: 'flaky-reset' });
      socket.resetAndDestroy();
      return;
    }
    const rule = sni === undefined ? undefined : context.censor.match('tls', sni, network);
    const tlsAction: LabAction = rule === undefined ? 'pass'
      : rule.behaviour.kind === 'sni-reset' ? 'sni-reset'
      : rule.behaviour.kind === 'sni-timeout' ? 'sni-timeout'
      : rule.behaviour.kind === 'tls-intercept' ? 'intercept'
      : rule.behaviour.kind === 'shutdown' ? 'shutdown'
      : 'pass';
    context.log.record({ kind: 'client-hello', source, network: network?.id, domain: site.domain, sni, action: tlsAction });
    switch (tlsAction) {
      case 'sni-reset':
        socket.resetAndDestroy();
        return;
      case 'sni-timeout':
      case 'shutdown':
        blackhole(socket);
        return;
      case 'intercept':
        handOver(socket, bytes, context.interceptServer);
        return;
      default: {
        const origin = context.originServers.get(site.domain);
        if (origin === undefined) socket.destroy();
        else handOver(socket, bytes, origin);
      }
    }
  });
}

/** The TCP stage: 'pass', or what was done to the connection. */
function tcpStage(socket: Socket, site: LabSite, network: LabNetwork | undefined, context: FrontContext): LabAction {
  const rule = context.censor.match('tcp', site.domain, network);
  const behaviour = rule?.behaviour;
  switch (behaviour?.kind) {
    case 'shutdown':
      if (behaviour.mode === 'reset') resetOnFirstData(socket);
      else blackhole(socket);
      return 'shutdown';
    case 'tcp-reset':
      if (behaviour.when === 'accept') socket.resetAndDestroy();
      else resetOnFirstData(socket);
      return 'reset';
    case 'tcp-blackhole':
      blackhole(socket);
      return 'blackhole';
    case 'down':
      if (behaviour.mode === 'timeout') blackhole(socket);
      else resetOnFirstData(socket);
      return 'down';
    case 'flaky':
      // Decided on the connection's first bytes (the ClientHello here, the
      // request in the web handler): a bare connect that sends nothing, such
      // as a probe's TCP reachability check, neither fails nor counts.
      return 'pass';
    default:
      return 'pass';
  }
}

/**
 * Reset the connection when the client's first bytes arrive. On loopback the
 * kernel completes the handshake before the lab even accepts, so an
 * immediate reset races the client's own notice of the connect (it sees
 * either a failed connect or a reset connection, depending on load). The
 * client only sends after it has seen the connect succeed, so a reset on
 * first data is deterministic: the connect succeeds and the first read or
 * write fails with ECONNRESET. (A true SYN answered by RST needs the
 * namespace tier.)
 */
export function resetOnFirstData(socket: Socket): void {
  socket.once('data', () => socket.resetAndDestroy());
  socket.on('end', () => socket.destroy());
  socket.resume();
}

/**
 * Total silence: nothing is ever written. Bytes the client sends are read and
 * discarded so its close is noticed and the socket freed.
 */
function blackhole(socket: Socket): void {
  socket.on('data', () => undefined);
  socket.on('end', () => socket.destroy());
  socket.resume();
}

/** Give the connection, with the bytes already read put back, to a TLS server. */
function handOver(socket: Socket, bytes: Buffer, server: HttpsServer): void {
  socket.pause();
  if (bytes.length > 0) socket.unshift(bytes);
  server.emit('connection', socket);
}

/** Read until a complete (or impossible) ClientHello, then call `done` with what was read. */
function readClientHello(socket: Socket, done: (hello: ClientHelloResult, bytes: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  const finish = (hello: ClientHelloResult): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.pause();
    done(hello, buffered);
  };
  const onData = (chunk: Buffer): void => {
    buffered = Buffer.concat([buffered, chunk]);
    const hello = parseClientHello(buffered, MAX_CLIENT_HELLO_BYTES);
    if (hello.status !== 'incomplete') finish(hello);
  };
  const onEnd = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const timer = setTimeout(() => socket.destroy(), CLIENT_HELLO_TIMEOUT_MS);
  timer.unref();
  socket.on('data', onData);
  socket.on('end', onEnd);
}
