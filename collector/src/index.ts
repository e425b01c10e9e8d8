export { SOFTWARE_NAME, SOFTWARE_VERSION } from './version.js';
export * from './store/index.js';
export * from './timeline/index.js';
export * from './api/index.js';
export * from './dashboard/index.js';
export * from './export/index.js';
export * from './ooni/index.js';
