import type { Cidr, Clock } from '@steppe/shared';

/** One input to measure. */
export interface Target {
  readonly url: string;
  /** Citizen Lab category code, e.g. "GRP", "NEWS". */
  readonly categoryCode?: string;
  /** Which test list the URL came from, and its version (reproducibility). */
  readonly testList?: string;
  readonly testListVersion?: string;
}

/** How the engine measures (the `measure` options, the daemon's config). */
export interface EngineOptions {
  /** Pseudonymous id of this probe (`probeIdFromPublicKey`). */
  readonly probeId: string;
  /** The DNS resolver asked over UDP (`--resolver`, or the system's from /etc/resolv.conf). */
  readonly resolver: { readonly host: string; readonly port: number };
  /**
   * Resolvers asked besides (`--third-party-resolver`), over UDP, recorded
   * as third-party: whether they circumvent DNS blocking. Their addresses are
   * used only when `resolver` yields none (ooni/spec ts-017 E003).
   */
  readonly thirdPartyResolvers?: readonly { readonly host: string; readonly port: number }[];
  /** The collector's base URL for the control vantage (`--control`); no control when absent. */
  readonly controlUrl?: string;
  /** The egress allow-list (`--allow-net`): nothing outside it is ever connected to. */
  readonly allowNet: readonly Cidr[];
  /** Source address of every socket: DNS, TCP, TLS, HTTP, control (`--local-address`). */
  readonly localAddress?: string;
  /** PEM roots trusted besides Mozilla's (`--ca-file`, the lab's root). */
  readonly extraCaPem?: string[];
  /** PEM roots added to the known interception roots (`--interception-roots`). */
  readonly interceptionRootsPem?: string[];
  /** Networks that count as ordinary (non-bogon) addresses in the verdict: the lab switch (`--lab-addresses`). */
  readonly labAddresses?: readonly Cidr[];
  /** The benign SNI of the control handshake (`--control-sni`, default example.org); never resolved. */
  readonly controlSni: string;
  /** Budget of one target, all steps and retries included (`--timeout-ms`). */
  readonly perTargetTimeoutMs: number;
  /** Body cap of each HTTP response. */
  readonly maxBodyBytes: number;
  /** Targets measured at once. */
  readonly concurrency: number;
  readonly clock?: Clock;
}

/** Defaults of the `measure` command and the daemon. */
export const ENGINE_DEFAULTS = {
  controlSni: 'example.org',
  perTargetTimeoutMs: 30_000,
  maxBodyBytes: 512 * 1024,
  concurrency: 4,
} as const;

/** Timeouts of each step, derived from the per-target budget. */
export interface StepTimeouts {
  readonly dnsMs: number;
  readonly tcpMs: number;
  readonly tlsMs: number;
  readonly httpMs: number;
  readonly controlMs: number;
  /** Pause before retrying a failed step. */
  readonly retryDelayMs: number;
}

function clamp(value: number, min: number, max: number): number {
  return Math.round(Math.min(max, Math.max(min, value)));
}

/**
 * Step timeouts from the per-target budget: each network step gets a slice
 * (DNS, TCP and TLS at most 10 s like a browser's connect timeout, HTTP the
 * largest share for the body download), the control runs alongside them.
 * The target's own deadline still bounds everything: a step cut by it is a
 * timeout like any other.
 */
export function stepTimeouts(perTargetTimeoutMs: number): StepTimeouts {
  const t = perTargetTimeoutMs;
  return {
    dnsMs: clamp(t * 0.12, 100, 10_000),
    tcpMs: clamp(t * 0.12, 100, 10_000),
    tlsMs: clamp(t * 0.12, 100, 10_000),
    httpMs: clamp(t * 0.4, 200, 60_000),
    controlMs: clamp(t * 0.9, 200, 120_000),
    retryDelayMs: clamp(t * 0.01, 20, 500),
  };
}
