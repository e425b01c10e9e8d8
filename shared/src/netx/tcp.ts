import { withDeadline } from './deadline.js';
import type { EgressGuard } from './egress-guard.js';
import type { TcpConnectObservation } from './observations.js';
import { connectTcp, failureOf } from './socket.js';
import type { Trace } from './trace.js';

/** Options of `tcpConnect`. */
export interface TcpConnectOptions {
  readonly ip: string;
  readonly port: number;
  /** Source address every socket binds to (`--local-address`). */
  readonly localAddress?: string | undefined;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly guard: EgressGuard;
  readonly trace: Trace;
  /** 0 for the first attempt, 1 for the retry. */
  readonly attempt?: number | undefined;
}

/**
 * Connect to `ip:port` and close again: does a TCP handshake complete? The
 * observation (appended to the trace and returned) carries the failure:
 * `connection_refused` (RST to the SYN), `generic_timeout_error` (SYN
 * unanswered), `blocked_by_policy` (outside --allow-net; no SYN sent), ...
 */
export async function tcpConnect(options: TcpConnectOptions): Promise<TcpConnectObservation> {
  const { trace } = options;
  const t0Ms = trace.elapsedMs();
  let failure = '';
  try {
    await withDeadline(options.timeoutMs, options.signal, async (signal) => {
      const socket = await connectTcp({ ...options, signal });
      socket.destroy();
    });
  } catch (err) {
    failure = failureOf(err);
  }
  const observation: TcpConnectObservation = {
    ip: options.ip,
    port: options.port,
    failure,
    t0Ms,
    t1Ms: trace.elapsedMs(),
    attempt: options.attempt ?? 0,
  };
  trace.addTcpConnect(observation);
  return observation;
}
