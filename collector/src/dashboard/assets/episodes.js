// The episode list: what an advocate cites. Each row gives onset and end in
// UTC and local time, the evidence count and links to exactly those
// measurements (the API query, and the same query as JSONL/CSV exports),
// followed by a sentence that can be quoted as it is.
import { evidenceExportQuery } from './filters.js';
import { count, longDate, networkText, utcText, zoned } from './format.js';

/**
 * @typedef {import('./api.js').ApiEpisode} ApiEpisode
 */

/**
 * Create an element with text and attributes (never innerHTML: names come from data).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attributes = {}, children = []) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  for (const c of children) el.append(c);
  return el;
}

/**
 * "On 6 December 2020, from 10:02 to 13:47 Asia/Almaty time (04:02–07:47 UTC), www.facebook.com was blocked on AS9198 … ; 3 probes, 2,311 measurements."
 * @param {ApiEpisode} e
 * @param {string} timeZone
 * @param {ReadonlyMap<number, string>} names
 */
export function episodeSentence(e, timeZone, names) {
  const onset = Date.parse(e.onset);
  const end = Date.parse(e.end);
  const a = zoned(onset, timeZone);
  const b = zoned(end, timeZone);
  const sameDay = a.date === b.date;
  const span = sameDay
    ? `On ${longDate(onset, timeZone)}, from ${a.time} to ${b.time} ${timeZone} time (${zoned(onset, 'UTC').time}–${zoned(end, 'UTC').time} UTC)`
    : `From ${longDate(onset, timeZone)} ${a.time} to ${longDate(end, timeZone)} ${b.time} ${timeZone} time (${utcText(onset)} to ${utcText(end)})`;
  const what = e.kind === 'shutdown'
    ? `probes on ${networkText(e.probe_asn, names)} went silent together and later delivered failed measurements (a possible shutdown)`
    : `${e.domain ?? 'the site'} ${e.confirmed > 0 ? 'was blocked' : 'showed signs of blocking (not confirmed by a blockpage or an interception certificate)'} on ${networkText(e.probe_asn, names)}${e.blocking_types.length > 0 ? ` (${e.blocking_types.join(', ')})` : ''}`;
  const ongoing = e.ongoing ? ' The episode was still going on at the end of the range.' : '';
  return `${span}, ${what}; ${count(e.probes)} ${e.probes === 1 ? 'probe' : 'probes'}, ${count(e.measurements)} measurements, ${count(e.anomalies)} of them anomalous.${ongoing}`;
}

/**
 * @param {string} iso
 * @param {string | undefined} local the API's local time ("2020-12-06 10:02 (UTC+06:00)")
 */
function timeCell(iso, local) {
  const ms = Date.parse(iso);
  return h('td', { class: 'time' }, [
    h('time', { datetime: iso }, [utcText(ms)]),
    h('br'),
    h('span', { class: 'local' }, [local ?? '']),
  ]);
}

/**
 * Fill the episodes table.
 * @param {HTMLTableSectionElement} tbody
 * @param {ApiEpisode[]} episodes
 * @param {string} timeZone
 * @param {ReadonlyMap<number, string>} names
 */
export function renderEpisodes(tbody, episodes, timeZone, names) {
  tbody.replaceChildren();
  for (const e of episodes) {
    const exportQuery = evidenceExportQuery(e.evidence_url);
    const evidence = h('td', { class: 'evidence' }, [
      h('a', { href: e.evidence_url, class: 'evidence-api' }, [`${count(e.anomalies)} anomalous measurements`]),
    ]);
    if (exportQuery !== null) {
      evidence.append(' · ', h('a', { href: `/api/v1/exports/measurements.jsonl?${exportQuery}`, class: 'evidence-jsonl', download: '' }, ['JSONL']));
      evidence.append(' · ', h('a', { href: `/api/v1/exports/measurements.csv?${exportQuery}`, class: 'evidence-csv', download: '' }, ['CSV']));
    }
    const end = timeCell(e.end, e.end_local);
    if (e.ongoing) end.append(h('span', { class: 'badge ongoing' }, ['ongoing']));
    const probes = h('td', { class: 'num' }, [count(e.probes)]);
    if (e.single_probe) probes.append(h('span', { class: 'badge', title: 'Only one probe reported from this network' }, ['single probe']));
    const row = h('tr', { class: 'episode', 'data-episode-id': e.id, 'data-kind': e.kind }, [
      h('td', {}, [e.domain ?? (e.kind === 'shutdown' ? 'all (shutdown signal)' : '—')]),
      h('td', {}, [networkText(e.probe_asn, names)]),
      timeCell(e.onset, e.onset_local),
      end,
      h('td', {}, [e.blocking_types.length > 0 ? e.blocking_types.join(', ') : e.kind === 'shutdown' ? 'probes silent' : '—']),
      probes,
      h('td', { class: 'num' }, [count(e.measurements)]),
      h('td', { class: 'num' }, [`${Math.round(e.confidence * 100)} %`]),
      evidence,
    ]);
    const summary = h('tr', { class: 'episode-summary' }, [h('td', { colspan: '9' }, [episodeSentence(e, timeZone, names)])]);
    tbody.append(row, summary);
  }
}
