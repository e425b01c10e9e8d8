export { SOFTWARE_NAME, SOFTWARE_VERSION } from './version.js';
