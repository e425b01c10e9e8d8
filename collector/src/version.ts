/** Name and version of the collector (kept equal to package.json by a test). */
export const SOFTWARE_NAME = 'steppe-collector';
export const SOFTWARE_VERSION = '0.1.0';
