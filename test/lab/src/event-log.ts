import type { Clock } from '@steppe/shared';

/** What the censor or the site did with one query, connection or request. */
export type LabAction =
  | 'answer' | 'wrong-answer' | 'nxdomain' | 'servfail' | 'refused' | 'timeout' | 'inject' | 'formerr'
  | 'pass' | 'reset' | 'blackhole' | 'down' | 'flaky-reset' | 'shutdown'
  | 'intercept' | 'sni-reset' | 'sni-timeout'
  | 'serve' | 'blockpage' | 'redirect' | 'http-reset' | 'throttle' | 'not-found' | 'challenge';

interface EventBase {
  /** Clock time (ms since the epoch) when the lab saw it. */
  readonly at: number;
  /** Source address of the client. */
  readonly source: string;
  /** Id of the source's network, undefined for an address of no simulated network. */
  readonly network: string | undefined;
  readonly action: LabAction;
}

/** One thing the lab saw. */
export type LabEvent =
  | (EventBase & { readonly kind: 'dns-query'; readonly transport: 'udp' | 'tcp'; readonly name: string; readonly type: string })
  /** A TCP connection accepted by a site's address (`domain` is the site whose address it is). */
  | (EventBase & { readonly kind: 'connection'; readonly domain: string; readonly scheme: 'http' | 'https' })
  /** A TLS ClientHello read by a site's front. */
  | (EventBase & { readonly kind: 'client-hello'; readonly domain: string; readonly sni: string | undefined })
  /** An HTTP request (`domain` is the site whose address it is, `host` its Host header). */
  | (EventBase & {
      readonly kind: 'http-request';
      readonly domain: string;
      readonly scheme: 'http' | 'https';
      readonly host: string;
      readonly method: string;
      readonly path: string;
      /** True when the request came through the interception middlebox. */
      readonly intercepted: boolean;
    });

/** Filter of `LabLog.events` and `LabLog.count`. */
export interface LabEventFilter {
  readonly kind?: LabEvent['kind'];
  readonly source?: string;
  readonly network?: string;
  readonly domain?: string;
  readonly action?: LabAction;
  /** For client-hello events. */
  readonly sni?: string;
}

type EventInput = LabEvent extends infer E ? (E extends LabEvent ? Omit<E, 'at'> : never) : never;

/**
 * A bounded, in-memory record of what every lab server saw, per source
 * address, so tests can assert e.g. "no connection reached the site" for an
 * egress-guard test, or "the ClientHello named www.facebook.com".
 */
export class LabLog {
  readonly #clock: Clock;
  readonly #limit: number;
  #events: LabEvent[] = [];
  #dropped = 0;

  constructor(clock: Clock, limit: number) {
    this.#clock = clock;
    this.#limit = limit;
  }

  /** Record an event (the oldest is forgotten beyond the limit). */
  record(event: EventInput): void {
    this.#events.push({ ...event, at: this.#clock.now() } as LabEvent);
    if (this.#events.length > this.#limit) {
      const excess = this.#events.length - this.#limit;
      this.#events.splice(0, excess);
      this.#dropped += excess;
    }
  }

  /** The events matching `filter`, oldest first. */
  events(filter: LabEventFilter = {}): LabEvent[] {
    return this.#events.filter((e) => matches(e, filter));
  }

  /** How many events match `filter`. */
  count(filter: LabEventFilter = {}): number {
    let n = 0;
    for (const e of this.#events) if (matches(e, filter)) n += 1;
    return n;
  }

  /** Events forgotten because the log was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Forget everything. */
  clear(): void {
    this.#events = [];
    this.#dropped = 0;
  }
}

function matches(event: LabEvent, filter: LabEventFilter): boolean {
  if (filter.kind !== undefined && event.kind !== filter.kind) return false;
  if (filter.source !== undefined && event.source !== filter.source) return false;
  if (filter.network !== undefined && event.network !== filter.network) return false;
  if (filter.action !== undefined && event.action !== filter.action) return false;
  if (filter.domain !== undefined) {
    const domain = event.kind === 'dns-query' ? event.name : event.domain;
    if (domain !== filter.domain) return false;
  }
  if (filter.sni !== undefined && (event.kind !== 'client-hello' || event.sni !== filter.sni)) return false;
  return true;
}
