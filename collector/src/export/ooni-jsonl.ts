import type { Measurement } from '@steppe/shared';
import { toOoniMeasurement } from '../ooni/to-ooni.js';
import type { MeasurementRecord } from '../store/store.js';

/** One measurement in OONI's data format, as a JSON Lines line (ooni/to-ooni.ts). */
export function ooniJsonLine(record: MeasurementRecord, decoded: Measurement): string {
  return `${JSON.stringify(toOoniMeasurement(decoded, record))}\n`;
}
