/** Name and version this probe reports in measurements and hellos (kept equal to package.json by a test). */
export const SOFTWARE_NAME = 'steppe-probe';
export const SOFTWARE_VERSION = '0.1.0';
