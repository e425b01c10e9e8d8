import { InvalidArgumentError } from '@steppe/shared';
import { assertLabAddress } from './addresses.js';

/**
 * What a censor (or a failing site) does to traffic, one kind per technique
 * documented in the censorship literature and OONI's measurements. Each kind
 * acts at one stage of a connection; a rule pairs a behaviour with the
 * domains and source networks it applies to.
 *
 * Which "domain" a stage sees:
 * - `dns`: the query name;
 * - `tcp`: the site whose address was connected to;
 * - `tls`: the server name (SNI) in the ClientHello, whatever the address;
 * - `http`: the Host header of the request.
 */
export type Behaviour =
  /** Answer A queries with another address (default: the blockpage server). */
  | { readonly kind: 'dns-wrong-answer'; readonly address?: string }
  | { readonly kind: 'dns-nxdomain' }
  | { readonly kind: 'dns-servfail' }
  | { readonly kind: 'dns-refused' }
  /** Swallow the query: the client times out. */
  | { readonly kind: 'dns-timeout' }
  /**
   * On-path injection: a forged A answer (default: the blockpage server) sent
   * at once, then the real answer `delayMs` later (default 20 ms). Over TCP
   * only the forged answer is sent.
   */
  | { readonly kind: 'dns-inject'; readonly address?: string; readonly delayMs?: number }
  /**
   * Reset every connection (`socket.resetAndDestroy()`): when the client's
   * first bytes arrive (default, deterministic: the connect succeeds, the
   * first read fails), or as soon as it is accepted (`accept`: on loopback
   * this races the client's connect notice, so it sees either a failed
   * connect or a reset).
   */
  | { readonly kind: 'tcp-reset'; readonly when?: 'first-data' | 'accept' }
  /** Accept, then total silence. */
  | { readonly kind: 'tcp-blackhole' }
  /** Reset the connection when the ClientHello names the domain. */
  | { readonly kind: 'sni-reset' }
  /** Stall the connection (no reply, no close) when the ClientHello names the domain. */
  | { readonly kind: 'sni-timeout' }
  /** Terminate TLS with a leaf re-signed by the state root (subject and SAN copied), serve the real content. */
  | { readonly kind: 'tls-intercept' }
  /** Answer the request with the blockpage, status 200. */
  | { readonly kind: 'http-blockpage' }
  /** Answer the request with a 302 to the blockpage host. */
  | { readonly kind: 'http-redirect' }
  /** Reset the connection once the request has been read. */
  | { readonly kind: 'http-reset' }
  /** Pace the response body at `bitsPerSecond` (default 100 000). */
  | { readonly kind: 'throttle'; readonly bitsPerSecond?: number }
  /** The site is down: connections reset on first data (default) or hang. Meant for the `everyone` selector. */
  | { readonly kind: 'down'; readonly mode?: 'reset' | 'timeout' }
  /**
   * The first `failures` connections (default 1) from each source address
   * that carry data (a ClientHello, an HTTP request) are reset; later ones
   * pass. Bare connects are neither failed nor counted.
   */
  | { readonly kind: 'flaky'; readonly failures?: number }
  /** Total shutdown: every DNS query and connection from the network dropped (default) or reset (TCP, on first data). */
  | { readonly kind: 'shutdown'; readonly mode?: 'drop' | 'reset' };

/** The name of a behaviour. */
export type BehaviourKind = Behaviour['kind'];

/** The stage of a connection where a behaviour acts. `network` acts at every stage, first. */
export type Stage = 'network' | 'dns' | 'tcp' | 'tls' | 'http';

/** The stage of each behaviour kind. */
export const BEHAVIOUR_STAGES: Readonly<Record<BehaviourKind, Stage>> = {
  'dns-wrong-answer': 'dns',
  'dns-nxdomain': 'dns',
  'dns-servfail': 'dns',
  'dns-refused': 'dns',
  'dns-timeout': 'dns',
  'dns-inject': 'dns',
  'tcp-reset': 'tcp',
  'tcp-blackhole': 'tcp',
  down: 'tcp',
  flaky: 'tcp',
  'sni-reset': 'tls',
  'sni-timeout': 'tls',
  'tls-intercept': 'tls',
  'http-blockpage': 'http',
  'http-redirect': 'http',
  'http-reset': 'http',
  throttle: 'http',
  shutdown: 'network',
};

/** Every behaviour kind. */
export const BEHAVIOUR_KINDS = Object.keys(BEHAVIOUR_STAGES) as BehaviourKind[];

/** Default pace of the `throttle` behaviour: ~100 kbit/s, slow enough to be unmistakable next to the control. */
export const DEFAULT_THROTTLE_BPS = 100_000;

/** Default delay of the real answer after an injected one. */
export const DEFAULT_INJECT_DELAY_MS = 20;

function optionalInteger(value: unknown, field: string, min: number, max: number): void {
  if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)) {
    throw new InvalidArgumentError(`behaviour.${field}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}

function allowOnly(behaviour: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of Object.keys(behaviour)) {
    if (key !== 'kind' && !keys.includes(key)) {
      throw new InvalidArgumentError(`behaviour.${key}: not an option of "${String(behaviour['kind'])}"${keys.length > 0 ? ` (options: ${keys.join(', ')})` : ''}`);
    }
  }
}

/** Validate a behaviour from untrusted input (a test, the world process's stdin); returns it typed. */
export function checkBehaviour(value: unknown): Behaviour {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError('behaviour: expected an object such as {"kind":"sni-reset"}');
  }
  const behaviour = value as Record<string, unknown>;
  const kind = behaviour['kind'];
  if (typeof kind !== 'string' || !Object.hasOwn(BEHAVIOUR_STAGES, kind)) {
    throw new InvalidArgumentError(`behaviour.kind: expected one of ${BEHAVIOUR_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  }
  switch (kind as BehaviourKind) {
    case 'dns-wrong-answer':
      allowOnly(behaviour, ['address']);
      if (behaviour['address'] !== undefined) assertLabAddress(String(behaviour['address']), 'behaviour.address');
      break;
    case 'dns-inject':
      allowOnly(behaviour, ['address', 'delayMs']);
      if (behaviour['address'] !== undefined) assertLabAddress(String(behaviour['address']), 'behaviour.address');
      optionalInteger(behaviour['delayMs'], 'delayMs', 0, 10_000);
      break;
    case 'tcp-reset':
      allowOnly(behaviour, ['when']);
      if (behaviour['when'] !== undefined && behaviour['when'] !== 'first-data' && behaviour['when'] !== 'accept') {
        throw new InvalidArgumentError('behaviour.when: expected "first-data" or "accept"');
      }
      break;
    case 'throttle':
      allowOnly(behaviour, ['bitsPerSecond']);
      optionalInteger(behaviour['bitsPerSecond'], 'bitsPerSecond', 8_000, 1_000_000_000);
      break;
    case 'down':
      allowOnly(behaviour, ['mode']);
      if (behaviour['mode'] !== undefined && behaviour['mode'] !== 'reset' && behaviour['mode'] !== 'timeout') {
        throw new InvalidArgumentError('behaviour.mode: expected "reset" or "timeout"');
      }
      break;
    case 'flaky':
      allowOnly(behaviour, ['failures']);
      optionalInteger(behaviour['failures'], 'failures', 1, 1000);
      break;
    case 'shutdown':
      allowOnly(behaviour, ['mode']);
      if (behaviour['mode'] !== undefined && behaviour['mode'] !== 'drop' && behaviour['mode'] !== 'reset') {
        throw new InvalidArgumentError('behaviour.mode: expected "drop" or "reset"');
      }
      break;
    default:
      allowOnly(behaviour, []);
  }
  return behaviour as unknown as Behaviour;
}
