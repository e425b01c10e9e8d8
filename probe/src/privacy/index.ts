export { PublicAddressSet } from './public-address.js';
export { SCRUBBED_ANNOTATION, scrubMeasurement, type ScrubResult } from './scrub-measurement.js';
