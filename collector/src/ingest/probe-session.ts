import type { KeyObject } from 'node:crypto';
import type { steppe } from '@steppe/proto';
import { type Clock, type ErrorCode, type FrameProps, bytesEqual, decodeFrame, encodeFrame, publicKeyFromRaw } from '@steppe/shared';
import type { IngestStore } from '../store/store.js';
import type { NetworkInfo } from '../geo/network-info.js';
import { verifyBatch } from './batch-verifier.js';
import { closeCodeFor } from './close-codes.js';
import type { TokenSet } from './enrollment.js';
import type { GroupCommitter } from './group-committer.js';
import type { IngestLimits } from './limits.js';
import type { IngestMetrics } from './metrics.js';
import type { ProbeRates } from './probe-rates.js';
import type { TouchThrottle } from './touch-throttle.js';

/** Something worth a log line. Never carries the probe's address. */
export type IngestEvent =
  | { readonly type: 'hello'; readonly probeId: string; readonly registered: boolean; readonly asn: number; readonly cc: string }
  | { readonly type: 'rejected'; readonly probeId: string | undefined; readonly code: ErrorCode; readonly message: string }
  | { readonly type: 'storage_error'; readonly probeId: string; readonly message: string };

/** What a session needs from the server around it. */
export interface SessionContext {
  readonly store: IngestStore;
  readonly committer: GroupCommitter;
  /** Undefined in open enrollment. */
  readonly tokens: TokenSet | undefined;
  readonly limits: IngestLimits;
  readonly metrics: IngestMetrics;
  readonly clock: Clock;
  readonly rates: ProbeRates;
  readonly welcome: () => steppe.v1.Welcome.$Properties;
  readonly handshakeTimeoutMs: number;
  readonly onEvent: (event: IngestEvent) => void;
  readonly touches: TouchThrottle;
}

/** How a session talks back: the socket, or a test's recorder. */
export interface SessionTransport {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
}

type State = 'hello' | 'registering' | 'ready' | 'closed';

/** Frames held while the hello's key lookup or registration runs (a peer that does not wait for Welcome). */
const MAX_HELD_FRAMES = 64;

/**
 * One probe connection's protocol state machine, separate from socket I/O
 * so every edge case can be tested by feeding bytes. Order: ProbeHello →
 * Welcome, then MeasurementBatch → Ack (or Error), any number of times.
 * Every refusal is an Error frame with a stable code, followed by the close
 * code of closeCodeFor(); nothing a peer sends can throw out of here.
 */
export class ProbeSession {
  readonly #ctx: SessionContext;
  readonly #transport: SessionTransport;
  readonly #network: NetworkInfo;
  #state: State = 'hello';
  #probeId: string | undefined;
  #publicKey: KeyObject | undefined;
  #inFlight = 0;
  #helloTimer: NodeJS.Timeout | undefined;
  /** Frames that arrived while the hello was being answered, handled in order after it. */
  #held: Array<[Uint8Array, boolean]> = [];

  constructor(ctx: SessionContext, transport: SessionTransport, network: NetworkInfo) {
    this.#ctx = ctx;
    this.#transport = transport;
    this.#network = network;
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = undefined;
      if (this.#state === 'hello') this.#fail('STEPPE_ERR_TIMEOUT', `no hello within ${ctx.handshakeTimeoutMs} ms`);
    }, ctx.handshakeTimeoutMs);
    this.#helloTimer.unref();
  }

  /** The authenticated probe id, once the hello was accepted. */
  get probeId(): string | undefined {
    return this.#probeId;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Handle one WebSocket message. */
  onMessage(data: Uint8Array, isBinary: boolean): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'registering') {
      if (this.#held.length >= MAX_HELD_FRAMES) return this.#fail('STEPPE_ERR_PROTOCOL', `more than ${MAX_HELD_FRAMES} frames before the Welcome`);
      this.#held.push([data, isBinary]);
      return;
    }
    try {
      this.#handle(data, isBinary);
    } catch (err) {
      // A bug, not the peer's fault; still answer with a code and keep the server up.
      this.#fail('STEPPE_ERR_INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The connection closed (either side). */
  onClose(): void {
    if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    if (this.#state === 'ready' && this.#probeId !== undefined) this.#ctx.rates.release(this.#probeId);
    this.#state = 'closed';
  }

  /** Refuse politely: the collector is going away. */
  shutdown(): void {
    if (this.#state !== 'closed') this.#fail('STEPPE_ERR_SHUTTING_DOWN', 'collector is shutting down; reconnect later');
  }

  #handle(data: Uint8Array, isBinary: boolean): void {
    if (!isBinary) return this.#fail('STEPPE_ERR_FRAME_DECODE', 'text message: frames are binary protobuf');
    if (data.length > this.#ctx.limits.maxFrameBytes) {
      return this.#fail('STEPPE_ERR_TOO_LARGE', `frame of ${data.length} bytes exceeds the limit of ${this.#ctx.limits.maxFrameBytes}`);
    }
    const decoded = decodeFrame(data);
    if (!decoded.ok) return this.#fail(decoded.error.code, decoded.error.message);
    const frame = decoded.value;
    switch (frame.body) {
      case 'hello':
        if (this.#state !== 'hello') return this.#fail('STEPPE_ERR_PROTOCOL', 'a second hello on one connection');
        this.#state = 'registering';
        this.#hello(frame.hello ?? {}).then(
          () => {
            // A refusal that keeps the connection open leaves it waiting for a hello, as before.
            if (this.#state === 'registering') this.#state = 'hello';
            this.#release();
          },
          (err: unknown) => this.#fail('STEPPE_ERR_INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`),
        );
        return undefined;
      case 'batch':
        if (this.#state !== 'ready') return this.#fail('STEPPE_ERR_PROTOCOL', 'batch before hello');
        return this.#batch(frame.batch ?? {}, data.length);
      case 'ping':
        return this.#send({ pong: { nonce: frame.ping?.nonce ?? 0, sentMs: frame.ping?.sentMs ?? 0 } });
      case 'pong':
        return undefined;
      default:
        return this.#fail('STEPPE_ERR_PROTOCOL', `a probe does not send ${frame.body} frames`);
    }
  }

  /** The hello was answered: handle what arrived meanwhile, in order. */
  #release(): void {
    const held = this.#held;
    this.#held = [];
    for (const [data, isBinary] of held) this.onMessage(data, isBinary);
  }

  async #hello(h: NonNullable<FrameProps['hello']>): Promise<void> {
    if (this.#helloTimer !== undefined) clearTimeout(this.#helloTimer);
    this.#helloTimer = undefined;
    const probeId = h.probeId ?? '';
    const raw = h.publicKey ?? new Uint8Array();
    let key: KeyObject;
    try {
      key = publicKeyFromRaw(raw);
    } catch {
      return this.#fail('STEPPE_ERR_FRAME_INVALID', 'public_key is not a valid ed25519 key');
    }
    const now = this.#ctx.clock.now();
    let registered = false;
    try {
      const known = await this.#ctx.store.probeKey(probeId);
      if (known !== undefined) {
        if (!bytesEqual(known, raw)) return this.#fail('STEPPE_ERR_KEY_CONFLICT', 'this probe id is registered with another key');
        if (this.#ctx.touches.due(probeId, now, this.#network)) await this.#ctx.store.touchProbe(probeId, now, this.#network);
      } else {
        const tokens = this.#ctx.tokens;
        if (tokens !== undefined && !tokens.has(h.enrollmentToken ?? '')) {
          return this.#fail('STEPPE_ERR_ENROLLMENT_REQUIRED', (h.enrollmentToken ?? '') === '' ? 'this collector enrolls probes by token; the hello carried none' : 'the enrollment token is not valid');
        }
        const outcome = await this.#ctx.store.registerProbe(probeId, raw, now, this.#network);
        if (outcome === 'conflict') return this.#fail('STEPPE_ERR_KEY_CONFLICT', 'this probe id is registered with another key');
        registered = outcome === 'registered';
      }
    } catch (err) {
      this.#ctx.onEvent({ type: 'storage_error', probeId, message: err instanceof Error ? err.message : String(err) });
      return this.#fail('STEPPE_ERR_STORAGE', 'the collector could not read or register the probe key');
    }
    if (this.#state !== 'registering') return; // closed while the store answered
    this.#probeId = probeId;
    this.#publicKey = key;
    this.#state = 'ready';
    this.#ctx.rates.acquire(probeId);
    this.#ctx.onEvent({ type: 'hello', probeId, registered, asn: this.#network.asn, cc: this.#network.cc });
    this.#send({ welcome: this.#ctx.welcome() });
  }

  #batch(batch: NonNullable<FrameProps['batch']>, frameBytes: number): void {
    const probeId = this.#probeId;
    const publicKey = this.#publicKey;
    if (probeId === undefined || publicKey === undefined) return this.#fail('STEPPE_ERR_PROTOCOL', 'batch before hello');
    const { limits, metrics } = this.#ctx;
    const count = batch.measurements?.length ?? 0;
    if (this.#inFlight >= limits.maxInFlight) {
      return this.#reject(count, 'STEPPE_ERR_RATE_LIMITED', `more than ${limits.maxInFlight} batches in flight; wait for acks`);
    }
    const exceeded = this.#ctx.rates.admit(probeId, frameBytes);
    if (exceeded !== undefined) {
      const limit = exceeded === 'batches' ? `${limits.maxBatchesPerSecond} batches/s` : `${limits.maxBytesPerSecond} bytes/s`;
      return this.#reject(count, 'STEPPE_ERR_RATE_LIMITED', `over the limit of ${limit}`);
    }
    const result = verifyBatch(batch, { probeId, publicKey, network: this.#network }, limits.maxBatchMeasurements, this.#ctx.clock.now());
    if (!result.ok) return this.#reject(result.measurements, result.error.code, result.error.message, result.sequence);
    const verified = result.batch;
    this.#inFlight += 1;
    this.#ctx.committer.submit(verified).then(
      (r) => {
        this.#inFlight -= 1;
        metrics.batches.inc({ result: 'accepted' });
        if (r.stored.length > 0) metrics.measurements.inc({ result: 'stored' }, r.stored.length);
        if (r.duplicates.length > 0) metrics.measurements.inc({ result: 'duplicate' }, r.duplicates.length);
        // Committed: the Ack may go now. If the socket is gone, the probe resends and gets duplicates.
        this.#send({ ack: { sequence: verified.sequence, storedIds: r.stored, duplicateIds: r.duplicates } });
      },
      (err: unknown) => {
        this.#inFlight -= 1;
        this.#ctx.onEvent({ type: 'storage_error', probeId, message: err instanceof Error ? err.message : String(err) });
        this.#reject(count, 'STEPPE_ERR_STORAGE', 'the batch could not be committed; nothing was acknowledged', verified.sequence);
      },
    );
  }

  #reject(measurements: number, code: ErrorCode, message: string, sequence?: number): void {
    this.#ctx.metrics.batches.inc({ result: 'rejected' });
    if (measurements > 0) this.#ctx.metrics.measurements.inc({ result: 'rejected' }, measurements);
    this.#fail(code, message, sequence);
  }

  #fail(code: ErrorCode, message: string, sequence = 0): void {
    if (this.#state === 'closed') return;
    const closeCode = closeCodeFor(code);
    this.#ctx.metrics.errors.inc({ code });
    this.#ctx.onEvent({ type: 'rejected', probeId: this.#probeId, code, message });
    this.#send({ error: { code, message: message.slice(0, 1000), sequence, closeCode } });
    if (closeCode !== 0) {
      this.onClose();
      this.#transport.close(closeCode, code);
    }
  }

  #send(frame: FrameProps): void {
    if (this.#state === 'closed') return;
    this.#transport.send(encodeFrame(frame));
  }
}
