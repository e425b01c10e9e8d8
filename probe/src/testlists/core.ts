import type { TestListEntry } from '@steppe/shared';

/** Name of the built-in core list. */
export const CORE_LIST_NAME = 'core';

/** Version of the built-in core list; bumped whenever its content changes. */
export const CORE_LIST_VERSION = 'core-2026.1';

/** One URL of the core list and why it is there. */
export interface CoreTarget {
  readonly url: string;
  readonly categoryCode: string;
  /** The list the row was taken from (so its metadata can be checked against it). */
  readonly from: 'global' | 'kz';
  readonly why: string;
}

/**
 * The small list measured every 15 minutes, and the only one measured once
 * the monthly bandwidth budget is spent. Every URL is copied verbatim from
 * Citizen Lab's lists (a test checks each one is present there with the same
 * category), so results stay comparable with OONI's.
 *
 * Chosen for the Kazakhstan context: the platforms blocked or throttled
 * during past events (6 Dec 2020 "Cyber Security Nur-Sultan 2020" exercise:
 * Facebook, Instagram, YouTube; January 2022: messaging apps and a total
 * shutdown), and the independent news sites most often blocked or attacked.
 * Few enough (about twenty) that a run every 15 minutes stays light.
 */
export const CORE_TARGETS: readonly CoreTarget[] = [
  { url: 'https://www.facebook.com/', categoryCode: 'GRP', from: 'global', why: 'blocked during the 6 Dec 2020 exercise (TLS interception)' },
  { url: 'https://www.instagram.com/', categoryCode: 'MMED', from: 'global', why: 'blocked during the 6 Dec 2020 exercise' },
  { url: 'https://www.youtube.com/', categoryCode: 'MMED', from: 'global', why: 'blocked during the 6 Dec 2020 exercise' },
  { url: 'https://www.whatsapp.com/', categoryCode: 'COMT', from: 'global', why: 'messaging; restricted in the January 2022 unrest' },
  { url: 'https://web.facebook.com/robots.txt', categoryCode: 'GRP', from: 'global', why: 'a second Facebook endpoint, to tell SNI/host rules apart' },
  { url: 'https://telegram.org/', categoryCode: 'GRP', from: 'global', why: 'messaging; restricted in the January 2022 unrest' },
  { url: 'https://t.me/', categoryCode: 'GRP', from: 'global', why: "Telegram's link domain, used by KZ news channels" },
  { url: 'https://www.azattyq.org/', categoryCode: 'NEWS', from: 'kz', why: 'RFE/RL Kazakh service, repeatedly blocked' },
  { url: 'https://rus.azattyq.org/', categoryCode: 'NEWS', from: 'kz', why: 'RFE/RL Russian-language service for KZ; throttled in 2024' },
  { url: 'https://vlast.kz/', categoryCode: 'NEWS', from: 'kz', why: 'independent news' },
  { url: 'https://informburo.kz/', categoryCode: 'NEWS', from: 'kz', why: 'independent news' },
  { url: 'https://ratel.kz/', categoryCode: 'NEWS', from: 'kz', why: 'independent news, blocked in the past' },
  { url: 'https://www.kaztag.kz/', categoryCode: 'NEWS', from: 'kz', why: 'news agency targeted by the authorities in 2016' },
  { url: 'https://www.uralskweek.kz/', categoryCode: 'NEWS', from: 'kz', why: 'regional independent weekly, blocked in 2014' },
  { url: 'https://holanews.kz/', categoryCode: 'NEWS', from: 'kz', why: 'blocked in 2022' },
  { url: 'https://zonakz.net/', categoryCode: 'NEWS', from: 'kz', why: 'independent discussion platform, DDoS-attacked' },
  { url: 'https://kz.kursiv.media/', categoryCode: 'NEWS', from: 'kz', why: 'business news' },
  { url: 'https://www.nur.kz/', categoryCode: 'NEWS', from: 'kz', why: 'the most visited KZ news portal: a reachability baseline' },
];

/** The core list as test-list entries. */
export function coreListEntries(): TestListEntry[] {
  return CORE_TARGETS.map((t, i) => ({
    url: t.url,
    categoryCode: t.categoryCode,
    categoryDescription: '',
    dateAdded: '',
    source: `citizenlab/${t.from}`,
    notes: t.why,
    line: i + 1,
  }));
}
