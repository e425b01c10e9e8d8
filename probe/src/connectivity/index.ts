export { CONNECTIVITY_TEST_NAME, CONNECTIVITY_TEST_VERSION, type ConnectivityOptions, type ConnectivityResult, measureConnectivity } from './connectivity-test.js';
export { guardedLookup, type GuardedLookupOptions } from './guarded-lookup.js';
export { BodyTooLargeError, createGuardedHttpGet, type EgressRules, type HttpGet, type HttpGetOptions, type HttpGetResult } from './http-get.js';
