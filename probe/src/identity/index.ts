export { loadOrCreateIdentity, KEY_FILE_NAME, type ProbeIdentity, type IdentityOptions } from './identity.js';
