export { SOFTWARE_NAME, SOFTWARE_VERSION } from './version.js';
export * from './store/index.js';
export * from './timeline/index.js';
export * from './api/index.js';
export * from './dashboard/index.js';
export * from './export/index.js';
export * from './ooni/index.js';
export { startCollector, type CollectorOptions, type CollectorLogEvent, type RunningCollector } from './collector-app.js';
