import { readFileSync } from 'node:fs';
import { type Cidr, ConfigError, cidrContains, ipToBytes, parseCidr, parseCsv } from '@steppe/shared';
import type { NetworkInfo } from './network-info.js';

/** One row of a `--networks` file: a CIDR and the network it stands for. */
export interface NetworkEntry extends NetworkInfo {
  readonly cidr: Cidr;
}

const CC = /^[A-Z]{2}$/;
const MAX_ASN = 4_294_967_295;

/**
 * Parse a `--networks` file: CIDR → ASN, country code, network name. Private
 * deployments and the lab use it (the lab maps 127.0.x.y sources to
 * simulated networks such as "AS9198 JSC Kazakhtelecom"); it is consulted
 * before the public database.
 *
 * Two forms, chosen by content:
 * - JSON: `[{"cidr": "127.0.9.0/24", "asn": 9198, "cc": "KZ", "name": "JSC Kazakhtelecom"}, ...]`
 *   (or the same list under a top-level `"networks"` key);
 * - CSV: `cidr,asn,cc,name` per line, an optional header line with those
 *   words, `#` comments; the name may be double-quoted (RFC 4180).
 * Errors name the file, the row and the field.
 */
export function parseNetworksFile(text: string, source: string): NetworkEntry[] {
  const trimmed = text.trimStart();
  const entries = trimmed.startsWith('[') || trimmed.startsWith('{') ? parseJson(text, source) : parseNetworksCsv(text, source);
  // Longest prefix first, so the most specific network wins a lookup.
  return entries.sort((a, b) => b.cidr.prefix - a.cidr.prefix);
}

/** Read and parse a `--networks` file. */
export function loadNetworksFile(path: string): NetworkEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('networks', `--networks ${path}: cannot read (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  return parseNetworksFile(text, `--networks ${path}`);
}

/** The entry whose CIDR holds `ip` (longest prefix), if any. Entries must be sorted by parseNetworksFile. */
export function matchNetwork(entries: readonly NetworkEntry[], ip: string): NetworkEntry | undefined {
  const bytes = ipToBytes(ip);
  if (bytes === undefined) return undefined;
  return entries.find((e) => cidrContains(e.cidr, bytes));
}

function parseJson(text: string, source: string): NetworkEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError('networks', `${source}: not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  const list = Array.isArray(value) ? value : isRecord(value) && Array.isArray(value['networks']) ? value['networks'] : undefined;
  if (list === undefined) throw new ConfigError('networks', `${source}: expected a JSON list of {cidr, asn, cc, name} (or {"networks": [...]})`);
  return list.map((item: unknown, i) => {
    const where = `${source}: networks[${i}]`;
    if (!isRecord(item)) throw new ConfigError(`networks[${i}]`, `${where}: expected an object {cidr, asn, cc, name}`);
    for (const key of Object.keys(item)) {
      if (!['cidr', 'asn', 'cc', 'name'].includes(key)) throw new ConfigError(`networks[${i}].${key}`, `${where}: unknown field "${key}" (known: cidr, asn, cc, name)`);
    }
    return entry(item['cidr'], item['asn'], item['cc'], item['name'], where, `networks[${i}]`);
  });
}

function parseNetworksCsv(text: string, source: string): NetworkEntry[] {
  const out: NetworkEntry[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line.length === 0 || line.startsWith('#')) return;
    const where = `${source}: line ${index + 1}`;
    const fields = splitCsvLine(line, where);
    if (out.length === 0 && fields[0]?.toLowerCase() === 'cidr') return; // header
    if (fields.length !== 4) throw new ConfigError(`networks:${index + 1}`, `${where}: expected 4 fields cidr,asn,cc,name, got ${fields.length}`);
    const [cidr, asn, cc, name] = fields;
    out.push(entry(cidr, asn === undefined || asn.trim() === '' ? asn : Number(asn), cc, name, where, `networks:${index + 1}`));
  });
  return out;
}

function entry(cidr: unknown, asn: unknown, cc: unknown, name: unknown, where: string, field: string): NetworkEntry {
  if (typeof cidr !== 'string') throw new ConfigError(`${field}.cidr`, `${where}: field "cidr": expected a CIDR such as 127.0.9.0/24, got ${JSON.stringify(cidr)}`);
  let parsed: Cidr;
  try {
    parsed = parseCidr(cidr);
  } catch (cause) {
    throw new ConfigError(`${field}.cidr`, `${where}: field "cidr": expected a CIDR such as 127.0.9.0/24, got ${JSON.stringify(cidr)}`, { cause });
  }
  if (typeof asn !== 'number' || !Number.isInteger(asn) || asn < 0 || asn > MAX_ASN) {
    throw new ConfigError(`${field}.asn`, `${where}: field "asn": expected an integer from 0 to ${MAX_ASN}, got ${JSON.stringify(asn)}`);
  }
  if (typeof cc !== 'string' || !CC.test(cc)) throw new ConfigError(`${field}.cc`, `${where}: field "cc": expected a two-letter upper-case country code such as KZ, got ${JSON.stringify(cc)}`);
  if (typeof name !== 'string' || name.length > 200) throw new ConfigError(`${field}.name`, `${where}: field "name": expected a network name of at most 200 characters, got ${JSON.stringify(name)}`);
  return { cidr: parsed, asn, cc, networkName: name };
}

/**
 * Split one CSV line (RFC 4180 quoting, through the shared reader), fields
 * trimmed. Exported for the ASN index builder.
 */
export function splitCsvLine(line: string, where: string): string[] {
  const { records, problems } = parseCsv(line);
  const problem = problems[0];
  if (problem !== undefined) throw new ConfigError('networks', `${where}: ${problem.message}`);
  return (records[0]?.fields ?? []).map((field) => field.trim());
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
