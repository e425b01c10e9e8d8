export { type NetworkInfo, UNKNOWN_NETWORK } from './network-info.js';
export { type NetworkEntry, parseNetworksFile, loadNetworksFile, matchNetwork } from './networks-file.js';
export { AsnIndex, type AsnRecord, type AsnSources } from './asn-index.js';
export { NetworkLookup, type NetworkLookupOptions, normalizeIp } from './network-lookup.js';
export { clientAddress } from './client-address.js';
