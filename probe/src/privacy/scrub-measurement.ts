import { isIPv4, isIPv6 } from 'node:net';
import { decodeMeasurement, encodeMeasurement, ipToBytes, type Measurement, type MeasurementProps, SCRUBBED, scrubValues, SteppeError } from '@steppe/shared';

/** Annotation listing the fields where the probe's address was scrubbed (no values). */
export const SCRUBBED_ANNOTATION = 'privacy_scrubbed_fields';

/** What {@link scrubMeasurement} returns. */
export interface ScrubResult {
  /** A new measurement (the input is not modified). */
  readonly measurement: Measurement;
  /** Dotted paths of the fields that held one of the addresses. */
  readonly scrubbedFields: string[];
}

// Bytes fields that carry text as received (scrubbed like strings, byte for
// byte outside the match). Other bytes fields are ids and digests.
const TEXT_BYTES = new Set(['bodyPrefix']);
// DER certificates: editing them would make them unparseable, so a
// certificate that contains the address is withheld whole instead.
const CERTIFICATE_BYTES = new Set(['peerCertificates']);

/**
 * Replace every occurrence of the probe's own addresses (`forms`, from
 * `PublicAddressSet.scrubForms()`) with `[scrubbed]` in every string and
 * text-bytes field of a measurement — headers, bodies, titles, failure
 * strings, evidence, annotations, control fields — as OONI does
 * (ooni/spec data-formats/df-000-base.md, "probe_ip" scrubbing).
 *
 * Two fields need more than a replacement:
 * - `body_prefix` changed → its `body_sha256` is cleared: a digest of a short
 *   body holding the address can be reversed by trying every IPv4 address;
 * - a peer certificate containing the address (as text, or as the 4/16 raw
 *   bytes of an iPAddress SAN) is replaced by empty bytes and noted in the
 *   annotations: a certificate cannot be edited and still be a certificate.
 *
 * When the probe does not know its own address yet (`forms` empty: the
 * control never answered and the machine has no public interface address),
 * the response fields a server or middlebox writes — header values, title,
 * body prefix — lose every IP address that is not one the measurement
 * itself resolved or connected to: an echo of the volunteer's address
 * behind NAT could otherwise slip through.
 *
 * Throws only if the measurement cannot be encoded at all (a bug upstream).
 */
export function scrubMeasurement(input: MeasurementProps, forms: readonly string[]): ScrubResult {
  const decoded = decodeMeasurement(encodeMeasurement(input));
  if (!decoded.ok) {
    throw new SteppeError('STEPPE_ERR_INTERNAL', `scrubMeasurement: the engine produced an invalid measurement: ${decoded.error.message}`, {
      cause: decoded.error,
    });
  }
  const measurement = decoded.value;
  const scrubbedFields: string[] = [];
  if (forms.length === 0) {
    scrubUnknownAddresses(measurement, scrubbedFields);
  } else {
    const rawForms = forms.flatMap(rawAddressBytes);
    walk(measurement as unknown as Record<string, unknown>, '', forms, rawForms, scrubbedFields);
  }
  if (scrubbedFields.length > 0) {
    const annotations = { ...(measurement.annotations ?? {}) };
    annotations[SCRUBBED_ANNOTATION] = [...new Set(scrubbedFields.map((f) => f.replace(/\[\d+\]/g, '[]')))].join(',');
    measurement.annotations = annotations;
  }
  return { measurement, scrubbedFields };
}

/** Addresses the measurement itself resolved or connected to: evidence, kept. */
function ownTargets(m: Measurement): Set<string> {
  const keep = new Set<string>();
  const o = m.observations;
  for (const q of o?.dnsQueries ?? []) for (const r of q.responses ?? []) for (const a of r.answers ?? []) keep.add(a.value ?? '');
  for (const t of o?.tcpConnects ?? []) keep.add(t.ip ?? '');
  for (const t of o?.tlsHandshakes ?? []) keep.add(t.ip ?? '');
  for (const h of o?.httpRequests ?? []) keep.add((h.address ?? '').replace(/^\[?(.*?)\]?:\d+$/, '$1'));
  keep.delete('');
  return keep;
}

// Candidates only (as shared/src/scrub.ts): each is confirmed with node:net.
const IPV4_CANDIDATE = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g;
const IPV6_CANDIDATE = /(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?![0-9A-Za-z:])/g;

/** Replace every IP address in `text` with [scrubbed], except those in `keep`. */
function scrubAddressesExcept(text: string, keep: ReadonlySet<string>): string {
  return text
    .replace(IPV6_CANDIDATE, (m) => (isIPv6(m) && !keep.has(m.toLowerCase()) ? SCRUBBED : m))
    .replace(IPV4_CANDIDATE, (m) => (isIPv4(m) && !keep.has(m) ? SCRUBBED : m));
}

function scrubUnknownAddresses(m: Measurement, scrubbed: string[]): void {
  const keep = new Set([...ownTargets(m)].map((ip) => ip.toLowerCase()));
  const clean = (text: string): string => scrubAddressesExcept(text, keep);
  (m.observations?.httpRequests ?? []).forEach((h, i) => {
    const here = `observations.httpRequests[${i}]`;
    (h.responseHeaders ?? []).forEach((header, j) => {
      const value = header.value ?? '';
      const out = clean(value);
      if (out !== value) {
        header.value = out;
        scrubbed.push(`${here}.responseHeaders[${j}].value`);
      }
    });
    const title = h.title ?? '';
    if (clean(title) !== title) {
      h.title = clean(title);
      scrubbed.push(`${here}.title`);
    }
    const prefix = h.bodyPrefix;
    if (prefix instanceof Uint8Array && prefix.length > 0) {
      const text = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength).toString('latin1');
      const out = clean(text);
      if (out !== text) {
        h.bodyPrefix = new Uint8Array(Buffer.from(out, 'latin1'));
        h.bodySha256 = new Uint8Array(0);
        scrubbed.push(`${here}.bodyPrefix`);
      }
    }
  });
}

function walk(
  node: Record<string, unknown>,
  path: string,
  forms: readonly string[],
  rawForms: readonly Uint8Array[],
  scrubbed: string[],
): void {
  for (const key of Object.keys(node)) {
    const value = node[key];
    const here = path === '' ? key : `${path}.${key}`;
    if (typeof value === 'string') {
      const out = scrubValues(value, forms);
      if (out !== value) {
        node[key] = out;
        scrubbed.push(here);
      }
    } else if (value instanceof Uint8Array) {
      if (TEXT_BYTES.has(key)) {
        const text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
        const out = scrubValues(text, forms);
        if (out !== text) {
          node[key] = new Uint8Array(Buffer.from(out, 'latin1'));
          if (key === 'bodyPrefix' && 'bodySha256' in node) node['bodySha256'] = new Uint8Array(0);
          scrubbed.push(here);
        }
      }
    } else if (Array.isArray(value)) {
      if (CERTIFICATE_BYTES.has(key)) {
        value.forEach((item, i) => {
          if (item instanceof Uint8Array && containsAddress(item, forms, rawForms)) {
            value[i] = new Uint8Array(0);
            scrubbed.push(`${here}[${i}]`);
          }
        });
        continue;
      }
      value.forEach((item, i) => {
        if (typeof item === 'string') {
          const out = scrubValues(item, forms);
          if (out !== item) {
            value[i] = out;
            scrubbed.push(`${here}[${i}]`);
          }
        } else if (item !== null && typeof item === 'object' && !(item instanceof Uint8Array)) {
          walk(item as Record<string, unknown>, `${here}[${i}]`, forms, rawForms, scrubbed);
        }
      });
    } else if (value !== null && typeof value === 'object') {
      if (key === 'annotations') {
        scrubMap(value as Record<string, unknown>, here, forms, scrubbed);
      } else {
        walk(value as Record<string, unknown>, here, forms, rawForms, scrubbed);
      }
    }
  }
}

function scrubMap(map: Record<string, unknown>, path: string, forms: readonly string[], scrubbed: string[]): void {
  for (const key of Object.keys(map)) {
    const value = map[key];
    const cleanKey = scrubValues(key, forms);
    const cleanValue = typeof value === 'string' ? scrubValues(value, forms) : value;
    if (cleanKey === key && cleanValue === value) continue;
    delete map[key];
    map[cleanKey] = cleanValue;
    scrubbed.push(`${path}.${cleanKey}`);
  }
}

function containsAddress(bytes: Uint8Array, forms: readonly string[], rawForms: readonly Uint8Array[]): boolean {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (forms.some((f) => buffer.includes(f, 0, 'latin1'))) return true;
  return rawForms.some((raw) => buffer.includes(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)));
}

/** The network-order bytes of an IP literal (how an iPAddress SAN holds it); none for other forms. */
function rawAddressBytes(form: string): Uint8Array[] {
  const bytes = ipToBytes(form);
  return bytes === undefined ? [] : [bytes];
}
