import WebSocket from 'ws';
import { type DecodedFrame, type FrameProps, decodeFrame, encodeFrame } from '@steppe/shared';

/** A test client: sends frames, collects decoded replies and the close code. */
export class TestClient {
  readonly ws: WebSocket;
  readonly frames: DecodedFrame[] = [];
  closeCode: number | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  #waiters: Array<() => void> = [];

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(`${url}/api/v1/ingest`, options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code) => {
      this.closeCode = code;
      this.#wake();
      resolve(code);
    }));
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data: Buffer) => {
      const d = decodeFrame(data);
      if (d.ok) this.frames.push(d.value);
      this.#wake();
    });
  }

  send(frame: FrameProps | Uint8Array): void {
    this.ws.send(frame instanceof Uint8Array ? frame : encodeFrame(frame));
  }

  /** Wait until `n` frames arrived (or the connection closed). */
  async next(n = this.frames.length + 1, timeoutMs = 5_000): Promise<DecodedFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < n && this.closeCode === undefined && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.frames[n - 1];
  }

  close(): void {
    this.ws.terminate();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}
