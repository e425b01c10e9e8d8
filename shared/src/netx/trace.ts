import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Clock, systemClock } from '../clock.js';
import type {
  DnsQueryObservation,
  HttpRequestObservation,
  NetworkEventObservation,
  ObservationsProps,
  TcpConnectObservation,
  TlsHandshakeObservation,
} from './observations.js';

/**
 * The record of one measurement: its start instant, every observation the
 * netx primitives made (each timestamped in milliseconds since that start, on
 * a monotonic clock so a wall-clock jump cannot reorder events) and the bytes
 * moved by every socket it opened, which the volunteer's bandwidth budget
 * is charged with. Observations are facts: a trace only appends.
 */
export class Trace {
  /** Measurement start, Unix milliseconds from the clock given (Measurement.start_time_ms). */
  readonly startTimeMs: number;
  readonly #t0 = performance.now();
  readonly #dns: DnsQueryObservation[] = [];
  readonly #tcp: TcpConnectObservation[] = [];
  readonly #tls: TlsHandshakeObservation[] = [];
  readonly #http: HttpRequestObservation[] = [];
  readonly #events: NetworkEventObservation[] = [];
  readonly #live = new Set<Socket>();
  #closedSent = 0;
  #closedReceived = 0;

  constructor(options: { readonly clock?: Clock } = {}) {
    this.startTimeMs = Math.round((options.clock ?? systemClock).now());
  }

  /** Milliseconds since the start, monotonic, to the microsecond. */
  elapsedMs(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  addDnsQuery(query: DnsQueryObservation): void {
    this.#dns.push(query);
  }

  addTcpConnect(connect: TcpConnectObservation): void {
    this.#tcp.push(connect);
  }

  addTlsHandshake(handshake: TlsHandshakeObservation): void {
    this.#tls.push(handshake);
  }

  addHttpRequest(request: HttpRequestObservation): void {
    this.#http.push(request);
  }

  addNetworkEvent(event: NetworkEventObservation): void {
    this.#events.push(event);
  }

  /**
   * Everything observed so far, each list ordered by start time (a stable
   * sort, so a redirect chain stays in the order it was followed). Copies:
   * later observations do not change an earlier snapshot's lists.
   */
  observations(): ObservationsProps {
    return {
      dnsQueries: byStart(this.#dns, (q) => q.t0Ms),
      tcpConnects: byStart(this.#tcp, (c) => c.t0Ms),
      tlsHandshakes: byStart(this.#tls, (h) => h.t0Ms),
      httpRequests: byStart(this.#http, (r) => r.t0Ms),
      networkEvents: byStart(this.#events, (e) => e.tMs),
    };
  }

  /**
   * Count the bytes of a TCP socket this trace's measurement opened. Pass the
   * raw socket (not a TLS socket over it) so TLS records and headers count:
   * that is what the volunteer's link carries.
   */
  trackSocket(socket: Socket): void {
    if (this.#live.has(socket)) return;
    this.#live.add(socket);
    socket.once('close', () => {
      if (!this.#live.delete(socket)) return;
      this.#closedSent += socket.bytesWritten;
      this.#closedReceived += socket.bytesRead;
    });
  }

  /** Count datagram bytes (UDP DNS), which no socket counter tracks for us. */
  countDatagram(sent: number, received: number): void {
    this.#closedSent += sent;
    this.#closedReceived += received;
  }

  /** Bytes written by every socket of this trace, open or closed. */
  get bytesSent(): number {
    let total = this.#closedSent;
    for (const s of this.#live) total += s.bytesWritten;
    return total;
  }

  /** Bytes read by every socket of this trace, open or closed. */
  get bytesReceived(): number {
    let total = this.#closedReceived;
    for (const s of this.#live) total += s.bytesRead;
    return total;
  }
}

function byStart<T>(items: readonly T[], start: (item: T) => number): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => start(a.item) - start(b.item) || a.index - b.index)
    .map((e) => e.item);
}
