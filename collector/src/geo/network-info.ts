/** The network a probe connects from, derived by the collector from the connecting address. */
export interface NetworkInfo {
  /** Autonomous system number; 0 when unknown (loopback, private, not in the database). */
  readonly asn: number;
  /** ISO 3166-1 alpha-2 country code; "ZZ" when unknown. */
  readonly cc: string;
  /** Name of the network operator; "" when unknown. */
  readonly networkName: string;
}

/** What an address we know nothing about maps to: kept, but attributed to no network. */
export const UNKNOWN_NETWORK: NetworkInfo = Object.freeze({ asn: 0, cc: 'ZZ', networkName: '' });
