import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Registry } from 'prom-client';
import type { steppe } from '@steppe/proto';
import { type Cidr, type Clock, INGEST_PATH, InvalidArgumentError, check, systemClock } from '@steppe/shared';
import type { IngestStore } from '../store/store.js';
import { clientAddress } from '../geo/client-address.js';
import { type NetworkInfo, UNKNOWN_NETWORK } from '../geo/network-info.js';
import { type Enrollment, TokenSet, checkEnrollment } from './enrollment.js';
import { GroupCommitter, type GroupCommitOptions } from './group-committer.js';
import { type IngestLimits, resolveIngestLimits } from './limits.js';
import { IngestMetrics } from './metrics.js';
import { ProbeRates } from './probe-rates.js';
import { TouchThrottle } from './touch-throttle.js';
import { type IngestEvent, ProbeSession, type SessionContext } from './probe-session.js';

/** Something that maps an address to its network (a NetworkLookup). */
export interface NetworkResolver {
  lookup(ip: string): NetworkInfo;
}

/** Options of {@link attachIngest}. */
export interface IngestOptions {
  readonly store: IngestStore;
  /** Address → network; without it every probe is AS0/ZZ. */
  readonly networks?: NetworkResolver;
  /** Reverse proxies whose X-Forwarded-For is believed. Default none. */
  readonly trustedProxies?: readonly Cidr[];
  /** Default `{ mode: 'open' }` (trust on first use). */
  readonly enrollment?: Enrollment;
  readonly limits?: Partial<IngestLimits>;
  /** The hello must arrive within this many ms of the upgrade. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** WebSocket ping interval; a connection that misses one pong is dropped. Default 30 s. */
  readonly pingIntervalMs?: number;
  /** Most simultaneous probe connections; beyond it upgrades get 503. Default 50,000. */
  readonly maxConnections?: number;
  readonly groupCommit?: GroupCommitOptions;
  /** Negotiate permessage-deflate (no context takeover). Default true; see dd-002. */
  readonly perMessageDeflate?: boolean;
  readonly clock?: Clock;
  /** Announced in Welcome. */
  readonly collectorId?: string;
  /** The current test-list version, announced in Welcome. */
  readonly testListVersion?: () => string;
  readonly schedule?: steppe.v1.Schedule.$Properties;
  /** Prometheus registry for the ingest metrics; default the API's `collectorMetrics` (GET /metrics). */
  readonly registry?: Registry;
  /** For log lines; events never carry a probe's address. */
  readonly onEvent?: (event: IngestEvent) => void;
}

/** Counters for `/metrics`-free introspection and tests. */
export interface IngestStats {
  readonly connections: number;
  /** Connections whose hello was accepted. */
  readonly probes: number;
  /** Batches waiting for the next group commit. */
  readonly pendingCommits: number;
}

/** What attachIngest returns. */
export interface IngestHandle {
  readonly metrics: IngestMetrics;
  stats(): IngestStats;
  /**
   * Stop: refuse new upgrades, commit and ack what is in flight, send every
   * probe STEPPE_ERR_SHUTTING_DOWN (close 1001), and detach from the server.
   * The http.Server itself is left to its owner.
   */
  close(): Promise<void>;
}

interface Connection {
  readonly ws: WebSocket;
  readonly session: ProbeSession;
  alive: boolean;
}

/**
 * Serve the probe ingest WebSocket on an existing http.Server (one port for
 * ingest, API and control: the lead composes `serve` from this). Listens to
 * the server's 'upgrade' event for INGEST_PATH only. The connecting address
 * (or the X-Forwarded-For hop, from a trusted proxy) is turned into a
 * network at upgrade time and then dropped: it is never stored or logged.
 */
export function attachIngest(server: Server, options: IngestOptions): IngestHandle {
  const limits = resolveIngestLimits(options.limits);
  const handshakeTimeoutMs = check.optional(check.integer({ min: 10, max: 600_000 }), 10_000)(options.handshakeTimeoutMs, 'handshakeTimeoutMs');
  const pingIntervalMs = check.optional(check.integer({ min: 10, max: 3_600_000 }), 30_000)(options.pingIntervalMs, 'pingIntervalMs');
  const maxConnections = check.optional(check.integer({ min: 1, max: 10_000_000 }), 50_000)(options.maxConnections, 'maxConnections');
  const enrollment = checkEnrollment(options.enrollment ?? { mode: 'open' });
  if (typeof options.store?.commitBatches !== 'function') throw new InvalidArgumentError('attachIngest: options.store must implement IngestStore');
  const clock = options.clock ?? systemClock;
  const metrics = new IngestMetrics(options.registry);
  const connections = new Set<Connection>();
  // Backpressure: while commits are behind, stop reading the probes' sockets
  // (group-committer.ts, highWaterMeasurements); what they send waits in the
  // kernel, and their in-flight limit stops them soon after.
  let paused = false;
  const committer = new GroupCommitter(options.store, metrics, {
    ...options.groupCommit,
    onPressure: (high) => {
      paused = high;
      for (const conn of connections) {
        if (high) conn.ws.pause();
        else conn.ws.resume();
      }
    },
  });
  const trusted = options.trustedProxies ?? [];
  const onEvent = options.onEvent ?? (() => undefined);
  const ctx: SessionContext = {
    store: options.store,
    committer,
    tokens: enrollment.mode === 'token' ? new TokenSet(enrollment.tokens) : undefined,
    limits,
    metrics,
    clock,
    rates: new ProbeRates(limits, clock),
    touches: new TouchThrottle(),
    handshakeTimeoutMs,
    onEvent,
    welcome: () => ({
      serverTimeMs: clock.now(),
      limits,
      testListVersion: options.testListVersion?.() ?? '',
      ...(options.schedule !== undefined ? { schedule: options.schedule } : {}),
      collectorId: options.collectorId ?? '',
      lastAckedSequence: 0,
    }),
  };

  // ws enforces a hard cap while reading (inflated size included, so a
  // deflate bomb stops early). Frames between our limit and the cap get a
  // coded STEPPE_ERR_TOO_LARGE; beyond the cap ws closes with 1009 itself.
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: Math.min(limits.maxFrameBytes * 2, 512 * 1024 * 1024),
    perMessageDeflate: options.perMessageDeflate === false ? false : {
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      threshold: 1024,
      concurrencyLimit: 4,
    },
  });
  let closing = false;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathOf(req) !== INGEST_PATH) {
      // Another listener may serve this path; answer only if we are alone.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    socket.on('error', () => undefined);
    if (closing) return refuse(socket, 503, 'Service Unavailable');
    if (connections.size >= maxConnections) return refuse(socket, 503, 'Service Unavailable');
    const network = networkOf(req);
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, network));
  };

  const networkOf = (req: IncomingMessage): NetworkInfo => {
    const address = clientAddress(req, trusted);
    if (address === undefined || options.networks === undefined) return UNKNOWN_NETWORK;
    try {
      return options.networks.lookup(address);
    } catch {
      return UNKNOWN_NETWORK;
    }
  };

  const accept = (ws: WebSocket, network: NetworkInfo): void => {
    ws.binaryType = 'nodebuffer';
    const session = new ProbeSession(ctx, {
      send: (bytes) => {
        if (ws.readyState === ws.OPEN) ws.send(bytes);
      },
      close: (code, reason) => {
        if (ws.readyState === ws.OPEN) ws.close(code, reason);
        // A peer that never answers the close handshake does not hold the slot.
        setTimeout(() => ws.terminate(), 5_000).unref();
      },
    }, network);
    const conn: Connection = { ws, session, alive: true };
    connections.add(conn);
    if (paused) ws.pause();
    metrics.connections.inc();
    ws.on('message', (data: Buffer, isBinary: boolean) => session.onMessage(data, isBinary));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes by itself after a protocol error (bad frame, over maxPayload).
      metrics.errors.inc({ code: err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 'STEPPE_ERR_TOO_LARGE' : 'STEPPE_ERR_FRAME_DECODE' });
    });
    ws.on('close', () => {
      connections.delete(conn);
      metrics.connections.dec();
      session.onClose();
    });
  };

  const liveness = setInterval(() => {
    for (const conn of connections) {
      // A paused socket cannot read its pong: silence then is ours, not the probe's.
      if (!conn.alive && !paused) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      try {
        conn.ws.ping();
      } catch {
        conn.ws.terminate();
      }
    }
  }, pingIntervalMs);
  liveness.unref();

  server.on('upgrade', onUpgrade);

  return {
    metrics,
    stats: () => ({
      connections: connections.size,
      probes: [...connections].filter((c) => c.session.probeId !== undefined).length,
      pendingCommits: committer.pending,
    }),
    close: async () => {
      if (closing) return;
      closing = true;
      clearInterval(liveness);
      server.off('upgrade', onUpgrade);
      // Commit what arrived, let its acks go out, then say goodbye.
      await committer.flush();
      await new Promise((resolve) => setImmediate(resolve));
      for (const conn of connections) conn.session.shutdown();
      const deadline = Date.now() + 2_000;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      for (const conn of connections) conn.ws.terminate();
      wss.close();
    },
  };
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
