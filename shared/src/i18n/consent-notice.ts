import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SteppeError } from '../errors.js';
import { LOCALES_DIR } from './catalogs.js';
import type { Language } from './languages.js';

/**
 * The probe's informed-consent notice in each language:
 * shared/locales/<language>/consent-notice.txt, plain text as the terminal
 * shows it, plus lines for translators that are never shown:
 *   # a note                 (any line starting with "#")
 *   #section NAME            (starts section NAME; every language has the
 *                             same sections, in the same order)
 */

/** One section of the notice. */
export interface NoticeSection {
  readonly id: string;
  /** Its text as shown (trimmed of blank lines around it). */
  readonly text: string;
}

/** The notice in one language. */
export interface ConsentNotice {
  readonly language: Language;
  /** Exactly what the terminal shows. */
  readonly text: string;
  readonly sections: readonly NoticeSection[];
  /**
   * The version of this text: "sha256:" and the first 16 hex digits of the
   * SHA-256 of `text`. Any change of the words, in any language, is a new
   * version, and a volunteer who accepted the old one is asked again.
   */
  readonly version: string;
}

/** Split a notice file into the text shown and its sections. */
export function parseConsentNotice(source: string): { text: string; sections: NoticeSection[] } {
  const shown: string[] = [];
  const sections: { id: string; lines: string[] }[] = [];
  for (const line of source.replace(/\r\n/g, '\n').split('\n')) {
    const marker = /^#section\s+([a-z][a-z0-9-]*)\s*$/.exec(line);
    if (marker !== null) {
      sections.push({ id: marker[1] ?? '', lines: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    shown.push(line);
    sections.at(-1)?.lines.push(line);
  }
  // The file ends with a newline; the text ends with exactly one.
  const text = `${shown.join('\n').replace(/\n+$/, '')}\n`;
  return { text, sections: sections.map((s) => ({ id: s.id, text: s.lines.join('\n').trim() })) };
}

/** The version (content digest) of a notice text. */
export function noticeVersion(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)}`;
}

/** Path of a language's notice file. */
export function consentNoticePath(language: Language): string {
  return `${LOCALES_DIR}${language}/consent-notice.txt`;
}

const notices = new Map<Language, ConsentNotice>();

/** The notice in `language`, read once. */
export function loadConsentNotice(language: Language): ConsentNotice {
  let notice = notices.get(language);
  if (notice === undefined) {
    const path = consentNoticePath(language);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new SteppeError('STEPPE_ERR_INTERNAL', `cannot read the consent notice ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    }
    const { text, sections } = parseConsentNotice(source);
    notice = { language, text, sections, version: noticeVersion(text) };
    notices.set(language, notice);
  }
  return notice;
}
