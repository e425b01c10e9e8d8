// The <title> of an HTML page, as blockpage matching and the control
// comparison use it (OONI compares titles word by word). A regex over the
// first bytes is enough: titles live in <head>, and a page that hides its
// title deeper is no evidence either way.

const TITLE = /<title[^>]*>([\s\S]*?)<\/title\s*>/i;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Longest title kept. */
export const MAX_TITLE_CHARS = 256;

/** The page title from the body's bytes (UTF-8), whitespace collapsed; '' when none. */
export function extractTitle(body: Uint8Array): string {
  const text = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 64 * 1024)).toString('utf8');
  const m = TITLE.exec(text);
  if (m?.[1] === undefined) return '';
  const decoded = m[1].replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (entity: string, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return safeCodePoint(parseInt(name.slice(2), 16), entity);
    if (name.startsWith('#')) return safeCodePoint(parseInt(name.slice(1), 10), entity);
    return ENTITIES[name.toLowerCase()] ?? entity;
  });
  return decoded.replace(/\s+/g, ' ').trim().slice(0, MAX_TITLE_CHARS);
}

function safeCodePoint(code: number, fallback: string): string {
  return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : fallback;
}
