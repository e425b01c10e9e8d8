// The words Steppe writes about evidence, in the reader's language: the
// episode sentence an advocate quotes, and the labels of the timeline
// chart. One implementation: the dashboard imports this file in the
// browser, the collector in Node (the server-rendered SVG, and pages and
// bundles to come), so a sentence reads the same wherever it is copied from.
import { longDate, utcText, zoned } from './time-text.js';

/**
 * @typedef {'no_data' | 'accessible' | 'anomaly' | 'confirmed'} BucketState
 */

/**
 * The fields of an episode the sentence is built from: a subset of the
 * episode JSON of GET /api/v1/episodes (docs/api/openapi.yaml).
 * @typedef {object} EpisodeFacts
 * @property {'blocking' | 'shutdown'} kind
 * @property {string | null} domain
 * @property {number} probe_asn
 * @property {string} onset ISO 8601
 * @property {string} end ISO 8601
 * @property {boolean} ongoing
 * @property {readonly string[]} blocking_types
 * @property {number} probes
 * @property {number} measurements
 * @property {number} anomalies
 * @property {number} confirmed
 */

/** The bucket states, in legend order. @type {readonly BucketState[]} */
export const BUCKET_STATES = ['accessible', 'anomaly', 'confirmed', 'no_data'];

/**
 * "AS9198 JSC Kazakhtelecom" (the same in every language: names are data).
 * @param {number} asn
 * @param {ReadonlyMap<number, string>} [names]
 */
export function networkText(asn, names) {
  const name = names?.get(asn);
  return `AS${asn}${name === undefined || name === '' ? '' : ` ${name}`}`;
}

/**
 * A chart row's label: "www.facebook.com · AS9198 JSC Kazakhtelecom"; a
 * null domain or ASN is "all domains" / "all networks" in the language.
 * @param {import('./translator.js').Translator} tr
 * @param {string | null} domain
 * @param {number | null} asn
 * @param {ReadonlyMap<number, string>} [names]
 */
export function rowLabel(tr, domain, asn, names) {
  const network = asn === null ? tr.t('chart.allNetworks') : networkText(asn, names);
  return `${domain ?? tr.t('chart.allDomains')} · ${network}`;
}

/**
 * A bucket state's name in the legend ("Confirmed blocking").
 * @param {import('./translator.js').Translator} tr
 * @param {BucketState} state
 */
export function stateLabel(tr, state) {
  return tr.t(`state.${state}.label`);
}

/**
 * What a bucket state means ("half or more of the measurements anomalous").
 * @param {import('./translator.js').Translator} tr
 * @param {BucketState} state
 */
export function stateDescription(tr, state) {
  return tr.t(`state.${state}.description`);
}

/**
 * The sentence that can be quoted as it is: "On 6 December 2020, from 10:02
 * to 13:47 Asia/Almaty time (04:02–07:47 UTC), www.facebook.com was blocked
 * on AS9198 JSC Kazakhtelecom (sni_reset); 3 probes, 2,311 measurements,
 * 2,290 of them anomalous." Blocking types and names stay as they are in
 * the data (they are the API's values).
 * @param {import('./translator.js').Translator} tr
 * @param {EpisodeFacts} e
 * @param {string} timeZone IANA zone of the local times
 * @param {ReadonlyMap<number, string>} [names] AS number → operator name
 */
export function episodeSentence(tr, e, timeZone, names) {
  const onset = Date.parse(e.onset);
  const end = Date.parse(e.end);
  const a = zoned(onset, timeZone);
  const b = zoned(end, timeZone);
  const span = a.date === b.date
    ? tr.t('episode.span.sameDay', { date: longDate(tr, onset, timeZone), from: a.time, to: b.time, zone: timeZone, utcFrom: zoned(onset, 'UTC').time, utcTo: zoned(end, 'UTC').time })
    : tr.t('episode.span.days', {
      fromDate: longDate(tr, onset, timeZone), from: a.time, toDate: longDate(tr, end, timeZone), to: b.time, zone: timeZone,
      utcFrom: utcText(onset), utcTo: utcText(end),
    });
  const network = networkText(e.probe_asn, names);
  const subject = { domain: e.domain ?? '', hasDomain: e.domain === null ? 'no' : 'yes', network };
  const what = e.kind === 'shutdown'
    ? tr.t('episode.what.shutdown', { network })
    : tr.t(e.confirmed > 0 ? 'episode.what.blocked' : 'episode.what.signs', subject);
  const types = e.kind !== 'shutdown' && e.blocking_types.length > 0 ? tr.t('episode.types', { types: e.blocking_types.join(', ') }) : '';
  return tr.t('episode.sentence', {
    span,
    what: `${what}${types}`,
    counts: tr.t('episode.counts', { probes: e.probes, measurements: e.measurements, anomalies: e.anomalies }),
    ongoing: e.ongoing ? tr.t('episode.ongoing') : '',
  });
}
