// Network measurement primitives: each checks the egress guard before any
// socket opens, takes an AbortSignal and a timeout, never uses system DNS,
// and records its observation (shaped as the wire messages) in a Trace.
export * from './observations.js';
export { EgressGuard, publicUnicastNetworks } from './egress-guard.js';
export { Trace } from './trace.js';
export { type Deadline, deadline, withDeadline, timeoutError } from './deadline.js';
export { ObservedFailure, failureOf, formatEndpoint } from './socket.js';
export { type AddressQueryType, dnsAddresses, encodeDnsQuery, parseDnsResponse, failureForResponse } from './dns-message.js';
export { type ResolverAddress, type DnsLookupOptions, DEFAULT_DUPLICATE_WINDOW_MS, dnsLookup } from './dns.js';
export { type ResolveAddressesOptions, type ResolvedAddresses, resolveAddresses } from './resolve-addresses.js';
export { type DohLookupOptions, dohLookup } from './doh.js';
export { RESOLV_CONF, parseResolvConf, systemResolver } from './resolv-conf.js';
export { type TcpConnectOptions, tcpConnect } from './tcp.js';
export { type TlsHandshakeOptions, DEFAULT_ALPN, peerChain, tlsHandshake } from './tls.js';
export {
  type HttpGetOptions,
  BROWSER_HEADERS,
  BODY_PREFIX_BYTES,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_REDIRECTS,
  DEFAULT_SAMPLE_INTERVAL_MS,
  KEPT_RESPONSE_HEADERS,
  httpGet,
  newHttpObservation,
} from './http.js';
export { MAX_TITLE_CHARS, extractTitle } from './html-title.js';
export { type PinnedOrigin, type PinnedClient, pinnedClient } from './pinned-client.js';
