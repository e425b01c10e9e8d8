import { parseCsv } from '@steppe/shared';

/** One Citizen Lab category (00-LEGEND-new_category_codes.csv). */
export interface Category {
  readonly code: string;
  readonly name: string;
  readonly description: string;
  /** Pre-2017 codes this one replaces (e.g. NEWS replaces FEXP). */
  readonly replaces: readonly string[];
}

/**
 * Parse Citizen Lab's category legend
 * (`Category Description,New Code,Replaces old code(s),Description`).
 * Rows without a code are skipped; this is reference data shipped with the
 * probe, so the test suite checks every row parses.
 */
export function parseCategoryLegend(text: string): Category[] {
  const { records } = parseCsv(text);
  const out: Category[] = [];
  for (const { fields } of records.slice(1)) {
    const [name = '', code = '', replaces = '', description = ''] = fields.map((f) => f.trim());
    if (!/^[A-Z]{2,8}$/.test(code)) continue;
    out.push({
      code,
      name,
      description,
      replaces: replaces.split(/\s+/).filter((c) => /^[A-Z]{2,8}$/.test(c) && c !== code),
    });
  }
  return out;
}

/**
 * Map a category code to the current one: old codes (FEXP, VOIP, P2P, ...)
 * become the code that replaced them; current codes map to themselves;
 * unknown codes are returned unchanged.
 */
export function currentCategoryCode(code: string, legend: readonly Category[]): string {
  for (const c of legend) {
    if (c.code === code) return code;
  }
  for (const c of legend) {
    if (c.replaces.includes(code)) return c.code;
  }
  return code;
}
