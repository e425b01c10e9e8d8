/**
 * The censorship lab's namespace tier (root only): probe and control
 * namespaces behind a censor router whose iptables rules reset, drop,
 * string-match or police packets, and a world namespace running the lab.
 */
export { startNamespaceLab, probeArguments, type NamespaceLab, type NamespaceLabOptions, type RunResult } from './harness.js';
export { namespaceTierSupport, builtEntryPoints, assertBuilt, type NamespaceSupport } from './support.js';
export { ruleSpecs, iptablesCommands, MAX_POLICED_RATE, type PacketRule } from './packet-rules.js';
export { namespaceViolations } from './namespace-check.js';
export {
  NAMESPACE_RANGE, NAMESPACE_ADDRESSES, NAMESPACE_INTERFACES, CENSOR_CHAIN, namespaceNames, namespaceOwner, setupCommands, teardownCommands,
  type NamespaceNames,
} from './topology.js';
export type { ClientRequest, ClientResponse, ClientCertificate } from './client-protocol.js';
export type { WorldOptions, WorldDescriptor, WorldCommand, WorldRequest, WorldAnswer, WorldReady } from './world-protocol.js';
