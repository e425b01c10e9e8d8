// Download links. CSV and JSON Lines are the export endpoints with the
// view's filters and resolved range (the measurements behind every cell);
// SVG is the server-rendered chart; PNG rasterises that same SVG here, so
// both images are identical and carry the title, legend and citation.
import { exportQuery, svgQuery } from './filters.js';
import { tr } from './i18n.js';

/**
 * @typedef {import('./filters.js').Filters} Filters
 */

/**
 * Point the download links at the current view.
 * @param {Filters} f
 * @param {{since: string, until: string}} range
 */
export function updateDownloadLinks(f, range) {
  const q = exportQuery(f, range);
  /** @param {string} id @param {string} href */
  const set = (id, href) => {
    const a = document.getElementById(id);
    if (a instanceof HTMLAnchorElement) a.href = href;
  };
  set('download-csv', `/api/v1/exports/measurements.csv?${q}`);
  set('download-jsonl', `/api/v1/exports/measurements.jsonl?${q}`);
  set('download-svg', `/api/v1/timeline.svg?${svgQuery(f, range, tr.language)}`);
  document.getElementById('download-svg')?.setAttribute('download', `${chartFileName(range)}.svg`);
}

/**
 * File name for a chart of a range, in the page's language:
 * steppe-timeline-20201206T0000Z-20201207T0000Z (steppe-хронология-… in Russian).
 * @param {{since: string, until: string}} range
 */
export function chartFileName(range) {
  /** @param {string} iso */
  const compact = (iso) => iso.replace(/[-:]/g, '').replace(/\.\d+/, '').replace(/00Z$/, 'Z');
  return `${tr.t('downloads.fileStem')}-${compact(range.since)}-${compact(range.until)}`;
}

/**
 * Fetch the server's SVG, draw it on a canvas at twice its size, and save it as PNG.
 * @param {string} svgUrl
 * @param {string} fileName
 * @returns {Promise<void>}
 */
export async function downloadPng(svgUrl, fileName) {
  const res = await fetch(svgUrl);
  if (!res.ok) throw new Error(`the chart could not be made (${res.status}): ${await res.text()}`);
  const svgBlob = new Blob([await res.text()], { type: 'image/svg+xml' });
  const svgObject = URL.createObjectURL(svgBlob);
  try {
    const img = new Image();
    img.src = svgObject;
    await img.decode();
    const scale = 2;
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth * scale;
    canvas.height = img.naturalHeight * scale;
    const ctx = canvas.getContext('2d');
    if (ctx === null) throw new Error('this browser cannot draw on a canvas');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    /** @type {Blob | null} */
    const png = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (png === null) throw new Error('this browser could not encode the PNG');
    const pngObject = URL.createObjectURL(png);
    const a = document.createElement('a');
    a.href = pngObject;
    a.download = `${fileName}.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(pngObject), 60_000);
  } finally {
    URL.revokeObjectURL(svgObject);
  }
}
