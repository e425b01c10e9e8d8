/**
 * Text for XML (SVG) documents. Everything that comes from data (domain
 * names, network names, event names, URLs) passes through here before it is
 * written into the chart, so a hostile name can never break out of an
 * attribute or inject markup.
 */

// Characters XML 1.0 does not allow at all (https://www.w3.org/TR/xml/#charsets):
// C0 controls except tab, LF and CR, lone surrogates, U+FFFE and U+FFFF.
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escape text for element content or a quoted attribute value; characters XML forbids become U+FFFD. */
export function xmlEscape(text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Attributes as ` name="value"` pairs; undefined values are left out, numbers rounded to 2 decimals. */
export function xmlAttributes(attributes: Readonly<Record<string, string | number | undefined>>): string {
  let out = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out += ` ${name}="${typeof value === 'number' ? svgNumber(value) : xmlEscape(value)}"`;
  }
  return out;
}

/** A coordinate as short text: at most 2 decimals, no trailing zeros. */
export function svgNumber(value: number): string {
  if (!Number.isFinite(value)) return '0';
  return String(Math.round(value * 100) / 100);
}
