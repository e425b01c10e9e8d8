import type { steppe } from '@steppe/proto';

// The shapes netx returns: the wire messages' property types with every field
// present, so callers read them without null checks and hand them straight to
// a Measurement (proto/steppe/v1/steppe.proto is the source of truth).
type Complete<T> = { -readonly [K in keyof T as K extends '$unknowns' ? never : K]-?: NonNullable<T[K]> };

/** One DNS response (steppe.v1.DnsResponse), every field present. */
export type DnsResponseObservation = Omit<Complete<steppe.v1.DnsResponse.$Properties>, 'answers'> & {
  answers: DnsAnswerObservation[];
};
/** One DNS answer record (steppe.v1.DnsAnswer). */
export type DnsAnswerObservation = Complete<steppe.v1.DnsAnswer.$Properties>;
/** One DNS query and its responses (steppe.v1.DnsQuery). */
export type DnsQueryObservation = Omit<Complete<steppe.v1.DnsQuery.$Properties>, 'responses'> & {
  responses: DnsResponseObservation[];
};
/** One TCP connect (steppe.v1.TcpConnect). */
export type TcpConnectObservation = Complete<steppe.v1.TcpConnect.$Properties>;
/** One TLS handshake (steppe.v1.TlsHandshake). */
export type TlsHandshakeObservation = Complete<steppe.v1.TlsHandshake.$Properties>;
/** One header name/value pair (steppe.v1.HttpHeader). */
export type HttpHeaderObservation = Complete<steppe.v1.HttpHeader.$Properties>;
/** Cumulative body bytes at an instant (steppe.v1.ThroughputSample). */
export type ThroughputSampleObservation = Complete<steppe.v1.ThroughputSample.$Properties>;
/** One HTTP request/response exchange, one redirect hop (steppe.v1.HttpRequest). */
export type HttpRequestObservation = Omit<
  Complete<steppe.v1.HttpRequest.$Properties>,
  'requestHeaders' | 'responseHeaders' | 'throughput'
> & {
  requestHeaders: HttpHeaderObservation[];
  responseHeaders: HttpHeaderObservation[];
  throughput: ThroughputSampleObservation[];
};
/** A resolver-level anomaly (steppe.v1.NetworkEvent). */
export type NetworkEventObservation = Complete<steppe.v1.NetworkEvent.$Properties>;

/** Everything a trace collected (steppe.v1.Observations). */
export interface ObservationsProps {
  dnsQueries: DnsQueryObservation[];
  tcpConnects: TcpConnectObservation[];
  tlsHandshakes: TlsHandshakeObservation[];
  httpRequests: HttpRequestObservation[];
  networkEvents: NetworkEventObservation[];
}
