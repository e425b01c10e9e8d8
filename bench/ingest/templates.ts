import { encodeMeasurement, newId, wire } from '@steppe/shared';
import { realisticMeasurement, seededRandom } from '../../test/uplink/fixtures/realistic-measurements.js';

/**
 * Pre-encoded realistic measurements whose id and probe id can be patched in
 * place: a Measurement encodes field 1 (id, 16 bytes) then field 2 (probe id,
 * 33 characters) first, so a copy with new bytes at fixed offsets is a new,
 * valid measurement. Keeps the load generator cheap enough to share two cores
 * with the collector under test.
 */
export class MeasurementTemplates {
  readonly #templates: Uint8Array[];

  constructor(count: number, seed: number) {
    const rand = seededRandom(seed);
    const placeholder = `p${'0'.repeat(32)}`;
    this.#templates = Array.from({ length: count }, () => encodeMeasurement(realisticMeasurement(placeholder, Date.now() - 60_000, rand)));
    const check = wire.Measurement.decode(this.#templates[0] ?? new Uint8Array());
    if (check.probeId !== placeholder || this.#templates[0]?.[0] !== 0x0a || this.#templates[0]?.[18] !== 0x12) throw new Error('unexpected measurement layout');
  }

  /** A new measurement for `probeId` (33 chars), started at `startMs`. */
  make(i: number, probeId: string, startMs: number): Uint8Array {
    const t = this.#templates[i % this.#templates.length] ?? new Uint8Array();
    const out = new Uint8Array(t);
    out.set(newId(startMs), 2);
    out.set(Buffer.from(probeId, 'latin1'), 20);
    return out;
  }
}
