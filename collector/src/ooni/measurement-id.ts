import { createHash } from 'node:crypto';
import { ID_BYTES } from '@steppe/shared';

/**
 * A deterministic, UUIDv7-shaped id for an imported OONI measurement
 * (docs/design/dd-003-ooni-compat.md): the 48-bit time field is the
 * measurement's start time, so imported ids sort with Steppe's own by time;
 * the remaining 74 bits come from SHA-256 of what identifies the record
 * (report id, input, start time). Importing the same file twice yields the
 * same ids, so the store deduplicates the second import.
 */
export function ooniMeasurementId(startMs: number, reportId: string, input: string, testName: string): Uint8Array {
  const digest = createHash('sha256').update(`ooni\n${testName}\n${reportId}\n${input}\n${startMs}`).digest();
  const id = new Uint8Array(ID_BYTES);
  const ms = Math.max(0, Math.min(Math.floor(startMs), 2 ** 48 - 1));
  for (let i = 0; i < 6; i += 1) id[i] = Math.floor(ms / 2 ** (8 * (5 - i))) % 256;
  for (let i = 6; i < ID_BYTES; i += 1) id[i] = digest[i - 6] ?? 0;
  id[6] = 0x70 | ((id[6] ?? 0) & 0x0f); // version 7
  id[8] = 0x80 | ((id[8] ?? 0) & 0x3f); // RFC 9562 variant
  return id;
}
