import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { type DecodedFrame, type FrameProps, decodeFrame, encodeFrame, wire } from '@steppe/shared';

/** What the scripted collector's handler gets for each frame. */
export interface ScriptContext {
  readonly ws: WebSocket;
  readonly connection: number;
  send(frame: FrameProps): void;
  /** Ids of the measurements of a batch frame, in order. */
  ids(frame: DecodedFrame): Uint8Array[];
  ackAll(frame: DecodedFrame): void;
}

/**
 * A scripted stand-in for a collector, on a real loopback socket: it speaks
 * the wire protocol and lets each test decide how to answer. It is a peer at
 * our own protocol interface, not a mock of the network.
 */
export class ScriptedCollector {
  readonly server: Server;
  readonly wss: WebSocketServer;
  readonly received: Array<{ connection: number; frame: DecodedFrame }> = [];
  connections = 0;
  #handler: (frame: DecodedFrame, ctx: ScriptContext) => void;
  readonly #tls: boolean;

  constructor(handler: (frame: DecodedFrame, ctx: ScriptContext) => void, tls?: { key: string; cert: string }) {
    this.#handler = handler;
    this.#tls = tls !== undefined;
    this.server = tls === undefined ? createHttpServer() : createHttpsServer(tls);
    this.wss = new WebSocketServer({ server: this.server, path: '/api/v1/ingest' });
    this.wss.on('connection', (ws) => {
      this.connections += 1;
      const connection = this.connections;
      const ctx: ScriptContext = {
        ws,
        connection,
        send: (f) => ws.send(encodeFrame(f)),
        ids: (f) => (f.batch?.measurements ?? []).map((m) => wire.Measurement.decode(m).id),
        ackAll: (f) => {
          const header = wire.BatchHeader.decode(f.batch?.header ?? new Uint8Array());
          ws.send(encodeFrame({ ack: { sequence: header.sequence, storedIds: ctx.ids(f) } }));
        },
      };
      ws.on('message', (data: Buffer) => {
        const d = decodeFrame(data);
        if (!d.ok) throw d.error;
        this.received.push({ connection, frame: d.value });
        this.#handler(d.value, ctx);
      });
    });
  }

  set handler(h: (frame: DecodedFrame, ctx: ScriptContext) => void) {
    this.#handler = h;
  }

  async listen(host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    const { port } = this.server.address() as AddressInfo;
    return `${this.#tls ? 'https' : 'http'}://${host}:${port}`;
  }

  batches(): DecodedFrame[] {
    return this.received.filter((r) => r.frame.body === 'batch').map((r) => r.frame);
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Welcome with the given limits. */
export function welcome(limits: NonNullable<FrameProps['welcome']>['limits'] = {}, testListVersion = ''): FrameProps {
  return { welcome: { serverTimeMs: Date.now(), limits, testListVersion, collectorId: 'scripted' } };
}
