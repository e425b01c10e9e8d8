import type { NetworkInfo } from '../geo/network-info.js';

/**
 * Decides when a known probe's "last seen" needs writing. Each write is a
 * durable transaction (an fsync); probes that reconnect often (or thousands
 * at once after an outage) would otherwise cost one each. A probe is touched
 * when it was not in the last `intervalMs`, or when its network changed.
 * Keeps probe ids and networks only, never addresses; bounded in size.
 */
export class TouchThrottle {
  readonly #intervalMs: number;
  readonly #max: number;
  readonly #last = new Map<string, { ms: number; asn: number; cc: string; name: string }>();

  constructor(intervalMs = 60_000, max = 200_000) {
    this.#intervalMs = intervalMs;
    this.#max = max;
  }

  due(probeId: string, nowMs: number, network: NetworkInfo): boolean {
    const last = this.#last.get(probeId);
    if (last !== undefined && nowMs - last.ms < this.#intervalMs && nowMs >= last.ms && last.asn === network.asn && last.cc === network.cc && last.name === network.networkName) {
      return false;
    }
    if (this.#last.size >= this.#max) this.#last.clear();
    this.#last.set(probeId, { ms: nowMs, asn: network.asn, cc: network.cc, name: network.networkName });
    return true;
  }
}
