export { Uplink, type UplinkOptions, type UplinkEvents, type FlushResult } from './uplink.js';
export { UplinkSession, type SessionConfig, type TransportConfig } from './uplink-session.js';
export { UplinkProtocol, type EffectiveLimits, type ProtocolConfig, type ProtocolOutput, type SessionEnd, type SessionHooks, type SessionQueue } from './uplink-protocol.js';
export { Backoff } from './backoff.js';
export { type Timers, realTimers } from './timers.js';
export { ingestUrl, parseCollectorList } from './collector-url.js';
export { proxyAgentFor } from './proxy.js';
export { parsePins, matchesPin } from './certificate-pin.js';
