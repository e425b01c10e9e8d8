// The episode list: what an advocate cites. Each row gives onset and end in
// UTC and local time, the evidence count and links to exactly those
// measurements (the API query, and the same query as JSONL/CSV exports),
// followed by a sentence that can be quoted as it is, in the page's
// language (built by shared/src/i18n/evidence-text.js, the same code the
// collector uses server-side).
import { evidenceExportQuery } from './filters.js';
import { tr } from './i18n.js';
import { episodeSentence, networkText } from '../i18n/evidence-text.js';
import { utcText } from '../i18n/time-text.js';

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
      h('a', { href: e.evidence_url, class: 'evidence-api' }, [tr.t('episodes.evidence', { count: e.anomalies })]),
    ]);
    if (exportQuery !== null) {
      evidence.append(' · ', h('a', { href: `/api/v1/exports/measurements.jsonl?${exportQuery}`, class: 'evidence-jsonl', download: '' }, ['JSONL']));
      evidence.append(' · ', h('a', { href: `/api/v1/exports/measurements.csv?${exportQuery}`, class: 'evidence-csv', download: '' }, ['CSV']));
    }
    const end = timeCell(e.end, e.end_local);
    if (e.ongoing) end.append(h('span', { class: 'badge ongoing' }, [tr.t('episodes.ongoing')]));
    const probes = h('td', { class: 'num' }, [tr.number(e.probes)]);
    if (e.single_probe) probes.append(h('span', { class: 'badge', title: tr.t('episodes.singleProbeTitle') }, [tr.t('episodes.singleProbe')]));
    const row = h('tr', { class: 'episode', 'data-episode-id': e.id, 'data-kind': e.kind }, [
      h('td', {}, [e.domain ?? (e.kind === 'shutdown' ? tr.t('episodes.shutdownDomain') : '—')]),
      h('td', {}, [networkText(e.probe_asn, names)]),
      timeCell(e.onset, e.onset_local),
      end,
      h('td', {}, [e.blocking_types.length > 0 ? e.blocking_types.join(', ') : e.kind === 'shutdown' ? tr.t('episodes.shutdownType') : '—']),
      probes,
      h('td', { class: 'num' }, [tr.number(e.measurements)]),
      h('td', { class: 'num' }, [tr.t('episodes.confidence', { percent: Math.round(e.confidence * 100) })]),
      evidence,
    ]);
    const summary = h('tr', { class: 'episode-summary' }, [h('td', { colspan: '9' }, [episodeSentence(tr, e, timeZone, names)])]);
    tbody.append(row, summary);
  }
}
