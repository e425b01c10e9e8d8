export { SOFTWARE_NAME, SOFTWARE_VERSION } from './version.js';
export * from './experiments/index.js';
export { type ControlRequestOptions, type ControlResponse, fetchControl } from './control-client.js';
// The volunteer's probe (issue 6): config, test lists, schedule, budget,
// consent, privacy, connectivity and the daemon that ties them together.
export * from './config/index.js';
export * from './testlists/index.js';
export * from './schedule/index.js';
export * from './budget/index.js';
export * from './consent/index.js';
export * from './privacy/index.js';
export * from './connectivity/index.js';
export * from './daemon/index.js';
// Outbox, uplink and identity, for embedders that drive probes themselves (the lab's demo).
export { Outbox, type OutboxOptions, type OutboxMeta, type OutboxItem, type OutboxStats, type OutboxDropEvent, type OutboxEvents } from './outbox/index.js';
export { Uplink, type UplinkOptions, type UplinkEvents, type FlushResult } from './uplink/index.js';
export { loadOrCreateIdentity, KEY_FILE_NAME, type ProbeIdentity, type IdentityOptions } from './identity/index.js';
