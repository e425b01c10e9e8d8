import type { LookupFunction } from 'node:net';
import type { Agent, IncomingMessage } from 'node:http';
import { type PeerCertificate, type TLSSocket, checkServerIdentity } from 'node:tls';
import WebSocket from 'ws';
import { classifyError } from '@steppe/shared';
import { matchesPin } from './certificate-pin.js';
import { type ProtocolConfig, type SessionEnd, type SessionHooks, UplinkProtocol } from './uplink-protocol.js';

export type { EffectiveLimits, SessionEnd, SessionHooks } from './uplink-protocol.js';

/** How to reach the collector: the socket's side of a session. */
export interface TransportConfig {
  /** The ingest URL (ws:// or wss://). */
  readonly url: string;
  /** WebSocket handshake timeout (the Welcome has the same budget, in the protocol). */
  readonly connectTimeoutMs: number;
  readonly compression: boolean;
  readonly agent: Agent | undefined;
  /** SHA-256 pins of the collector's leaf certificate, on top of normal verification. */
  readonly pins: readonly Buffer[];
  readonly ca: string | Buffer | Array<string | Buffer> | undefined;
  readonly localAddress: string | undefined;
  readonly lookup: LookupFunction | undefined;
}

/** Everything a session needs. */
export type SessionConfig = ProtocolConfig & TransportConfig;

/** A peer that does not answer the close handshake within this is dropped. */
const CLOSE_GRACE_MS = 2_000;

/**
 * One connection to one collector: a ws client socket (certificate pinning,
 * proxy agent, compression) driving an {@link UplinkProtocol}, which holds
 * every rule of the session. This class only moves bytes and endings
 * between the two.
 */
export class UplinkSession {
  readonly #cfg: SessionConfig;
  readonly #protocol: UplinkProtocol;
  #ws: WebSocket | undefined;
  #resolve: ((end: SessionEnd) => void) | undefined;

  constructor(cfg: SessionConfig, hooks: SessionHooks) {
    this.#cfg = cfg;
    this.#protocol = new UplinkProtocol(cfg, hooks, {
      send: (bytes) => {
        if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(bytes);
      },
      close: (code, reason) => {
        const ws = this.#ws;
        ws?.close(code, reason);
        cfg.timers.setTimeout(() => ws?.terminate(), CLOSE_GRACE_MS);
      },
      terminate: () => this.#ws?.terminate(),
    }, (end) => this.#resolve?.(end));
  }

  get welcomed(): boolean {
    return this.#protocol.welcomed;
  }

  get inFlightBatches(): number {
    return this.#protocol.inFlightBatches;
  }

  /** Connect and run until the connection ends. Never rejects. */
  run(): Promise<SessionEnd> {
    return new Promise<SessionEnd>((resolve) => {
      const ended = this.#protocol.end;
      if (ended !== undefined) {
        resolve(ended); // closed before it started
        return;
      }
      this.#resolve = resolve;
      this.#connect();
    });
  }

  /** Wake the pump: new rows may be in the outbox. */
  notify(): void {
    this.#protocol.notify();
  }

  /** Close politely once nothing is in flight (or now, with `force`). */
  close(force = false): void {
    this.#protocol.close(force);
  }

  #connect(): void {
    const cfg = this.#cfg;
    const protocol = this.#protocol;
    let ws: WebSocket;
    // Verify the name against the collector URL's host even when a proxy
    // agent makes the TLS connection (https-proxy-agent drops the host for
    // IP literals, which would check against "localhost").
    const target = new URL(cfg.url).hostname.replace(/^\[|\]$/g, '');
    try {
      ws = new WebSocket(cfg.url, {
        handshakeTimeout: cfg.connectTimeoutMs,
        perMessageDeflate: cfg.compression ? { clientNoContextTakeover: true, serverNoContextTakeover: true, threshold: 1024 } : false,
        maxPayload: 16 * 1024 * 1024,
        followRedirects: false,
        // @types/ws declares an older signature; ws hands this to tls.connect as is.
        checkServerIdentity: ((_host: string, cert: PeerCertificate) => checkServerIdentity(target, cert)) as unknown as WebSocket.ClientOptions['checkServerIdentity'],
        ...(cfg.agent !== undefined ? { agent: cfg.agent } : {}),
        ...(cfg.ca !== undefined ? { ca: cfg.ca } : {}),
        ...(cfg.localAddress !== undefined ? { localAddress: cfg.localAddress } : {}),
        ...(cfg.lookup !== undefined ? { lookup: cfg.lookup } : {}),
      });
    } catch (err) {
      protocol.ended('STEPPE_ERR_UPLINK', `cannot connect to ${cfg.url}: ${err instanceof Error ? err.message : String(err)}`, undefined);
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('upgrade', (res: IncomingMessage) => {
      if (cfg.pins.length === 0) return;
      const cert = (res.socket as TLSSocket).getPeerCertificate?.();
      if (cert?.raw === undefined || !matchesPin(cert.raw, cfg.pins)) {
        protocol.ended('ssl_invalid_certificate', 'the collector certificate does not match the configured pin', undefined);
        ws.terminate();
      }
    });
    ws.on('open', () => protocol.opened());
    ws.on('message', (data: Buffer, isBinary: boolean) => protocol.received(data, isBinary));
    ws.on('error', (err: Error) => protocol.ended(classifyError(err), `${cfg.url}: ${err.message}`, undefined));
    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      protocol.ended('STEPPE_ERR_UPLINK', `${cfg.url} answered HTTP ${res.statusCode ?? 0} instead of upgrading`, undefined);
      ws.terminate();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const text = reason.toString('utf8');
      protocol.ended(text !== '' ? text : 'eof_error', `connection closed (${code}${text !== '' ? ` ${text}` : ''})`, code);
    });
  }
}
