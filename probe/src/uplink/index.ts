export { Uplink, type UplinkOptions, type UplinkEvents, type FlushResult } from './uplink.js';
export { UplinkSession, type EffectiveLimits, type SessionEnd } from './uplink-session.js';
export { Backoff } from './backoff.js';
export { type Timers, realTimers } from './timers.js';
export { ingestUrl, parseCollectorList } from './collector-url.js';
export { proxyAgentFor } from './proxy.js';
export { parsePins, matchesPin } from './certificate-pin.js';
