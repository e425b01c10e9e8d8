import {
  type Clock,
  type ErrorCode,
  type FrameProps,
  PROTOCOL_VERSION,
  decodeFrame,
  encodeFrame,
  sealBatch,
} from '@steppe/shared';
import type { Outbox, OutboxItem } from '../outbox/outbox.js';
import type { ProbeIdentity } from '../identity/identity.js';
import { Pacer } from './pacer.js';
import type { Timers } from './timers.js';

/** Limits in force for one session: the probe's own, lowered to the collector's. */
export interface EffectiveLimits {
  readonly maxBatchMeasurements: number;
  readonly maxBatchBytes: number;
  readonly maxFrameBytes: number;
  readonly maxInFlight: number;
  readonly maxBatchesPerSecond: number;
  readonly maxBytesPerSecond: number;
}

/** How a session ended. */
export interface SessionEnd {
  /** True once the collector's Welcome was received. */
  readonly welcomed: boolean;
  /** A stable error code or a failure string (connection_refused, ...). */
  readonly code: string;
  readonly message: string;
  /** WebSocket close code, when the connection got that far. */
  readonly closeCode: number | undefined;
}

/** Session callbacks into the Uplink (which turns them into events). */
export interface SessionHooks {
  welcome(info: { collectorId: string; testListVersion: string; serverTimeMs: number; limits: EffectiveLimits }): void;
  acked(info: { sequence: number; stored: number; duplicates: number }): void;
  refused(info: { code: string; message: string; sequence: number; closeCode: number }): void;
  quarantined(info: { id: Uint8Array; reason: string }): void;
  /** Outbox drained and nothing in flight. */
  idle(): void;
}

/** What the protocol asks of its transport: frames out, and the two ways to end. */
export interface ProtocolOutput {
  /** Send one encoded frame (dropped when the connection is not open). */
  send(bytes: Uint8Array): void;
  /** Close politely with a WebSocket close code: the probe is done. */
  close(code: number, reason: string): void;
  /** Drop the connection at once: the peer broke the protocol or went silent. */
  terminate(): void;
}

/** The part of the outbox a session reads and changes. */
export type SessionQueue = Pick<Outbox, 'next' | 'ack' | 'quarantine' | 'nextSequence'>;

/** Everything the protocol needs; no socket among it. */
export interface ProtocolConfig {
  /** The collector, for messages. */
  readonly url: string;
  readonly identity: Pick<ProbeIdentity, 'keys' | 'probeId'>;
  readonly outbox: SessionQueue;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly softwareVersion: string;
  readonly enrollmentToken: string;
  readonly testListVersion: string;
  readonly limits: EffectiveLimits;
  /** The Welcome must follow the hello within this. */
  readonly connectTimeoutMs: number;
  /** A batch not acked within this is taken as a dead connection. */
  readonly ackTimeoutMs: number;
  /** Ids the collector rejected as part of a multi-measurement batch: retried one per batch. */
  readonly suspects: Set<string>;
}

interface InFlight {
  readonly items: readonly OutboxItem[];
  readonly ids: readonly string[];
  readonly timer: unknown;
}

/**
 * The probe's side of one session as a state machine without I/O, as ws
 * separates its Receiver from the socket: the transport reports that it
 * opened, the bytes it received and how it ended; the protocol answers with
 * frames to send and, when the peer breaks the rules or goes silent, asks to
 * drop the connection. Time comes from the injected clock and timers, so
 * every edge case is tested by feeding frames (probe/test/uplink).
 *
 * Order: ProbeHello → Welcome, then signed batches from the outbox, at most
 * `maxInFlight` unacknowledged, paced under the collector's rates. Rows are
 * deleted from the outbox only for ids an Ack names. When the session ends,
 * whatever was in flight simply stays in the outbox and is sent again by the
 * next session (the collector deduplicates).
 */
export class UplinkProtocol {
  readonly #cfg: ProtocolConfig;
  readonly #hooks: SessionHooks;
  readonly #output: ProtocolOutput;
  readonly #onEnd: (end: SessionEnd) => void;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #inFlightIds = new Set<string>();
  #limits: EffectiveLimits;
  #pacer: Pacer | undefined;
  #welcomed = false;
  #end: SessionEnd | undefined;
  #pumpTimer: unknown;
  #helloTimer: unknown;
  #wantClose = false;

  constructor(cfg: ProtocolConfig, hooks: SessionHooks, output: ProtocolOutput, onEnd: (end: SessionEnd) => void) {
    this.#cfg = cfg;
    this.#hooks = hooks;
    this.#output = output;
    this.#onEnd = onEnd;
    this.#limits = cfg.limits;
  }

  get welcomed(): boolean {
    return this.#welcomed;
  }

  get inFlightBatches(): number {
    return this.#inFlight.size;
  }

  /** How the session ended, once it has. */
  get end(): SessionEnd | undefined {
    return this.#end;
  }

  /** The connection is open: say hello and wait for the Welcome. */
  opened(): void {
    if (this.#end !== undefined) return;
    const cfg = this.#cfg;
    this.#send({
      hello: {
        protocolVersion: PROTOCOL_VERSION,
        probeId: cfg.identity.probeId,
        publicKey: cfg.identity.keys.publicKey,
        softwareVersion: cfg.softwareVersion,
        capabilities: [],
        enrollmentToken: cfg.enrollmentToken,
        testListVersion: cfg.testListVersion,
      },
    });
    this.#helloTimer = cfg.timers.setTimeout(() => {
      if (!this.#welcomed) this.#abort('STEPPE_ERR_TIMEOUT', `no welcome from ${cfg.url} within ${cfg.connectTimeoutMs} ms`);
    }, cfg.connectTimeoutMs);
  }

  /** One WebSocket message from the collector. */
  received(data: Uint8Array, isBinary: boolean): void {
    if (this.#end !== undefined) return;
    const decoded = isBinary ? decodeFrame(data) : undefined;
    if (decoded === undefined || !decoded.ok) {
      this.#abort('STEPPE_ERR_FRAME_DECODE', `collector sent an undecodable frame${decoded !== undefined && !decoded.ok ? `: ${decoded.error.message}` : ''}`);
      return;
    }
    const f = decoded.value;
    switch (f.body) {
      case 'welcome':
        return this.#onWelcome(f.welcome);
      case 'ack':
        return this.#onAck(f.ack);
      case 'error':
        return this.#onError(f.error);
      case 'ping':
        return this.#send({ pong: { nonce: f.ping?.nonce ?? 0, sentMs: f.ping?.sentMs ?? 0 } });
      default:
        return undefined;
    }
  }

  /**
   * The connection ended or could not be made: `code` is a failure string
   * (connection_refused, ...) or a stable error code. The first end counts.
   */
  ended(code: string, message: string, closeCode: number | undefined): void {
    if (this.#end !== undefined) return;
    const cfg = this.#cfg;
    cfg.timers.clearTimeout(this.#helloTimer);
    cfg.timers.clearTimeout(this.#pumpTimer);
    for (const entry of this.#inFlight.values()) cfg.timers.clearTimeout(entry.timer);
    this.#inFlight.clear();
    this.#inFlightIds.clear();
    this.#end = { welcomed: this.#welcomed, code, message, closeCode };
    this.#onEnd(this.#end);
  }

  /** Wake the pump: new rows may be in the outbox. */
  notify(): void {
    if (this.#welcomed && this.#end === undefined) this.#pump();
  }

  /** Close politely once nothing is in flight (or now, with `force`). */
  close(force = false): void {
    this.#wantClose = true;
    if (force || this.#inFlight.size === 0) {
      this.ended('closed', 'closed by the probe', 1000);
      this.#output.close(1000, 'bye');
    }
  }

  /** End with `code` and drop the connection. */
  #abort(code: string, message: string): void {
    this.ended(code, message, undefined);
    this.#output.terminate();
  }

  #onWelcome(w: FrameProps['welcome']): void {
    if (this.#welcomed || w == null) return;
    this.#cfg.timers.clearTimeout(this.#helloTimer);
    const own = this.#cfg.limits;
    const theirs = w.limits ?? {};
    const lower = (mine: number, their: number | null | undefined): number => (their != null && their > 0 ? Math.min(mine, their) : mine);
    const maxFrameBytes = lower(own.maxFrameBytes, theirs.maxFrameBytes);
    this.#limits = {
      maxFrameBytes,
      maxBatchBytes: Math.min(own.maxBatchBytes, Math.floor(maxFrameBytes * 0.9)),
      maxBatchMeasurements: lower(own.maxBatchMeasurements, theirs.maxBatchMeasurements),
      maxInFlight: lower(own.maxInFlight, theirs.maxInFlight),
      maxBatchesPerSecond: lower(own.maxBatchesPerSecond, theirs.maxBatchesPerSecond),
      maxBytesPerSecond: lower(own.maxBytesPerSecond, theirs.maxBytesPerSecond),
    };
    this.#pacer = new Pacer(this.#cfg.clock, this.#limits.maxBatchesPerSecond, this.#limits.maxBytesPerSecond, maxFrameBytes);
    this.#welcomed = true;
    this.#hooks.welcome({
      collectorId: w.collectorId ?? '',
      testListVersion: w.testListVersion ?? '',
      serverTimeMs: w.serverTimeMs ?? 0,
      limits: this.#limits,
    });
    this.#pump();
  }

  #onAck(a: FrameProps['ack']): void {
    if (a == null) return;
    const sequence = a.sequence ?? 0;
    const entry = this.#inFlight.get(sequence);
    if (entry === undefined) return;
    const named = new Set<string>([...(a.storedIds ?? []), ...(a.duplicateIds ?? [])].map(hex));
    // Delete only what the Ack names and this batch carried.
    const acked = entry.items.filter((i) => named.has(hex(i.id)));
    this.#cfg.outbox.ack(acked.map((i) => i.id));
    for (const i of acked) this.#cfg.suspects.delete(hex(i.id));
    this.#settle(sequence, entry);
    this.#hooks.acked({ sequence, stored: a.storedIds?.length ?? 0, duplicates: a.duplicateIds?.length ?? 0 });
    this.#afterSettle();
  }

  #onError(e: FrameProps['error']): void {
    if (e == null) return;
    const code = e.code ?? 'STEPPE_ERR_UPLINK';
    const sequence = e.sequence ?? 0;
    const closeCode = e.closeCode ?? 0;
    this.#hooks.refused({ code, message: e.message ?? '', sequence, closeCode });
    const entry = this.#inFlight.get(sequence);
    if (entry !== undefined && code === ('STEPPE_ERR_MEASUREMENT_INVALID' satisfies ErrorCode)) {
      // The collector refused an authentic batch because of its content.
      // Narrow it down: several measurements are retried one by one; a lone
      // one is set aside (kept on disk, no longer offered).
      if (entry.items.length > 1) for (const id of entry.ids) this.#cfg.suspects.add(id);
      else for (const item of entry.items) {
        this.#cfg.outbox.quarantine(item.id, `${code}: ${e.message ?? ''}`);
        this.#cfg.suspects.delete(hex(item.id));
        this.#hooks.quarantined({ id: item.id, reason: e.message ?? code });
      }
      this.#settle(sequence, entry);
    }
    if (closeCode !== 0) {
      // The collector closes the connection after this frame.
      this.ended(code, e.message ?? code, closeCode);
      return;
    }
    this.#afterSettle();
  }

  #settle(sequence: number, entry: InFlight): void {
    this.#cfg.timers.clearTimeout(entry.timer);
    this.#inFlight.delete(sequence);
    for (const id of entry.ids) this.#inFlightIds.delete(id);
  }

  #afterSettle(): void {
    if (this.#wantClose && this.#inFlight.size === 0) {
      this.close();
      return;
    }
    this.#pump();
  }

  #pump(): void {
    if (this.#end !== undefined || !this.#welcomed || this.#wantClose) return;
    this.#cfg.timers.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    const limits = this.#limits;
    while (this.#inFlight.size < limits.maxInFlight) {
      const items = this.#nextItems(limits);
      if (items.length === 0) {
        if (this.#inFlight.size === 0) this.#hooks.idle();
        return;
      }
      const frame = this.#seal(items, limits);
      if (frame === undefined) continue; // an oversize measurement was set aside; look again
      const wait = this.#pacer?.waitMs(frame.bytes.length) ?? 0;
      if (wait > 0) {
        this.#pumpTimer = this.#cfg.timers.setTimeout(() => {
          this.#pacer?.waited(wait);
          this.#pump();
        }, wait);
        return;
      }
      this.#pacer?.spend(frame.bytes.length);
      const ids = frame.items.map((i) => hex(i.id));
      for (const id of ids) this.#inFlightIds.add(id);
      const sequence = frame.sequence;
      const timer = this.#cfg.timers.setTimeout(() => {
        // No Ack in time: the connection is presumed dead. Reconnect and resend.
        this.#abort('generic_timeout_error', `no ack for batch ${sequence} within ${this.#cfg.ackTimeoutMs} ms`);
      }, this.#cfg.ackTimeoutMs);
      this.#inFlight.set(sequence, { items: frame.items, ids, timer });
      this.#output.send(frame.bytes);
    }
  }

  #nextItems(limits: EffectiveLimits): OutboxItem[] {
    const items = this.#cfg.outbox.next(limits.maxBatchMeasurements, limits.maxBatchBytes, (id) => this.#inFlightIds.has(id));
    const suspects = this.#cfg.suspects;
    if (suspects.size === 0) return items;
    const k = items.findIndex((i) => suspects.has(hex(i.id)));
    if (k === -1) return items;
    return k === 0 ? items.slice(0, 1) : items.slice(0, k);
  }

  #seal(items: OutboxItem[], limits: EffectiveLimits): { bytes: Uint8Array; items: OutboxItem[]; sequence: number } | undefined {
    let batch = items;
    for (;;) {
      const sequence = this.#cfg.outbox.nextSequence();
      const sealed = sealBatch({
        keys: this.#cfg.identity.keys,
        probeId: this.#cfg.identity.probeId,
        sequence,
        createdMs: this.#cfg.clock.now(),
        measurements: batch.map((i) => i.bytes),
      });
      const bytes = encodeFrame({ batch: sealed });
      if (bytes.length <= limits.maxFrameBytes) return { bytes, items: batch, sequence };
      if (batch.length > 1) {
        batch = batch.slice(0, Math.ceil(batch.length / 2));
        continue;
      }
      const only = batch[0];
      if (only !== undefined) {
        const reason = `measurement of ${only.bytes.length} bytes exceeds the collector's frame limit of ${limits.maxFrameBytes} bytes`;
        this.#cfg.outbox.quarantine(only.id, `STEPPE_ERR_TOO_LARGE: ${reason}`);
        this.#hooks.quarantined({ id: only.id, reason });
      }
      return undefined;
    }
  }

  #send(frame: FrameProps): void {
    if (this.#end === undefined) this.#output.send(encodeFrame(frame));
  }
}

function hex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}
