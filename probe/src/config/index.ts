export { CONFIG_DEFAULTS, CONFIG_VERSION, probeConfigSchema, type ProbeConfig } from './schema.js';
export {
  buildConfigDocument,
  CONFIG_FILE_NAME,
  type ConfigInit,
  configPath,
  controlUrlOf,
  defaultDataDir,
  resolveDataDir,
  loadProbeConfig,
  parseProbeConfig,
  resolverOf,
  writeProbeConfig,
} from './file.js';
export { allowNetItems, allowNetList, byteSize, cronExpression, nullable, parseByteSize } from './checks.js';
export { readJsonIfExists, writeFileAtomic, writeJsonAtomic } from './json-file.js';
