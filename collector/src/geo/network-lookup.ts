import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type CountryResponse, Reader } from 'maxmind';
import { ConfigError, formatIp, ipToBytes, isBogon } from '@steppe/shared';
import { AsnIndex, type AsnSources } from './asn-index.js';
import { type NetworkInfo, UNKNOWN_NETWORK } from './network-info.js';
import { type NetworkEntry, loadNetworksFile, matchNetwork } from './networks-file.js';

/** Options of {@link NetworkLookup}. */
export interface NetworkLookupOptions {
  /** Path of a `--networks` file (JSON or CSV), consulted before the public databases. */
  readonly networksFile?: string;
  /** Entries already parsed (tests, or a caller that loaded the file itself). */
  readonly networks?: readonly NetworkEntry[];
  /** Use the public databases after the networks map (default true). */
  readonly useDatabases?: boolean;
  /** Directory where the ASN range index is cached (e.g. `<data-dir>/geo`). Built in memory without it. */
  readonly cacheDir?: string;
  /** Override the database files (tests); default: the installed @ip-location-db packages. */
  readonly countryMmdb?: string;
  readonly asnSources?: AsnSources;
}

// geo-whois-asn-country records are flat: { country_code: "KZ" }.
type CountryRecord = CountryResponse & { readonly country_code?: string };

/**
 * Derives the network (ASN, country, operator name) a probe connects from.
 * Order: the `--networks` map (longest prefix), then the public databases:
 * country from @ip-location-db/geo-whois-asn-country-mmdb (read with
 * `maxmind`), ASN and name from @ip-location-db/asn (a range index built on
 * first use and cached, see AsnIndex). Loopback, private and unknown
 * addresses give AS0/ZZ. The address itself is never kept: callers pass it
 * in, get the network back and drop it.
 */
export class NetworkLookup {
  readonly #networks: readonly NetworkEntry[];
  readonly #useDatabases: boolean;
  readonly #cacheDir: string | undefined;
  readonly #countryPath: string | undefined;
  readonly #asnSources: AsnSources | undefined;
  #country: Reader<CountryRecord> | undefined;
  #asn: AsnIndex | undefined;

  constructor(options: NetworkLookupOptions = {}) {
    const fromFile = options.networksFile !== undefined ? loadNetworksFile(options.networksFile) : [];
    this.#networks = [...fromFile, ...(options.networks ?? [])].sort((a, b) => b.cidr.prefix - a.cidr.prefix);
    this.#useDatabases = options.useDatabases ?? true;
    this.#cacheDir = options.cacheDir;
    this.#countryPath = options.countryMmdb;
    this.#asnSources = options.asnSources;
  }

  /** Number of entries in the networks map. */
  get networkCount(): number {
    return this.#networks.length;
  }

  /**
   * Load the databases now (building the ASN index if no cache exists)
   * instead of at the first lookup; `serve` calls it at startup so the first
   * probe does not wait. Throws ConfigError if a database is missing.
   */
  warm(): void {
    if (!this.#useDatabases) return;
    this.#countryReader();
    this.#asnIndex();
  }

  /** The network of `ip` (v4, v6 or v4-mapped v6). Never throws for bad input: it is unknown. */
  lookup(ip: string): NetworkInfo {
    const normal = normalizeIp(ip);
    if (normal === undefined) return UNKNOWN_NETWORK;
    const mapped = matchNetwork(this.#networks, normal);
    if (mapped !== undefined) return { asn: mapped.asn, cc: mapped.cc, networkName: mapped.networkName };
    if (!this.#useDatabases || isBogon(normal)) return UNKNOWN_NETWORK;
    const country = this.#countryReader().get(normal)?.country_code;
    const as = this.#asnIndex().lookup(normal);
    const cc = typeof country === 'string' && /^[A-Z]{2}$/.test(country) ? country : 'ZZ';
    return { asn: as?.asn ?? 0, cc, networkName: as?.name ?? '' };
  }

  #countryReader(): Reader<CountryRecord> {
    if (this.#country === undefined) {
      const path = this.#countryPath ?? packageFile('@ip-location-db/geo-whois-asn-country-mmdb', 'geo-whois-asn-country.mmdb');
      let buf: Buffer;
      try {
        buf = readFileSync(path);
      } catch (cause) {
        throw new ConfigError('geo', `country database ${path} cannot be read (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
      }
      try {
        this.#country = new Reader<CountryRecord>(buf);
      } catch (cause) {
        throw new ConfigError('geo', `country database ${path} is not a valid MaxMind DB (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
      }
    }
    return this.#country;
  }

  #asnIndex(): AsnIndex {
    if (this.#asn === undefined) {
      const sources = this.#asnSources ?? {
        ipv4Csv: packageFile('@ip-location-db/asn', 'asn-ipv4-num.csv'),
        ipv6Csv: packageFile('@ip-location-db/asn', 'asn-ipv6-num.csv'),
      };
      this.#asn = AsnIndex.load(sources, this.#cacheDir);
    }
    return this.#asn;
  }
}

const require = createRequire(import.meta.url);

function packageFile(pkg: string, file: string): string {
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), file);
  } catch (cause) {
    throw new ConfigError('geo', `package ${pkg} is not installed (needed for IP-to-network lookups; or pass --networks and disable the databases)`, { cause });
  }
}

/** Canonical text of an address; IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4. */
export function normalizeIp(ip: string): string | undefined {
  const bytes = ipToBytes(ip);
  if (bytes === undefined) return undefined;
  if (bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return formatIp(bytes.subarray(12));
  }
  return formatIp(bytes);
}
