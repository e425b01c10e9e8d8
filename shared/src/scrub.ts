import { isIPv4, isIPv6 } from 'node:net';

/** What a scrubbed value is replaced with (OONI's convention). */
export const SCRUBBED = '[scrubbed]';

// Candidates only; each match is confirmed with node:net before replacing, so
// times like "12:30:45" or version strings like "1.2.3.4.5" survive.
const IPV4_CANDIDATE = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g;
const IPV6_CANDIDATE = /(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{0,4}|(?:\d{1,3}\.){3}\d{1,3})(?:%[0-9A-Za-z]+)?(?![0-9A-Za-z:])/g;

/** Replace every IPv4 and IPv6 literal in `text` with `[scrubbed]`. */
export function scrubIpAddresses(text: string): string {
  return text
    .replace(IPV6_CANDIDATE, (m) => (isIPv6(m.split('%')[0] ?? m) ? SCRUBBED : m))
    .replace(IPV4_CANDIDATE, (m) => (isIPv4(m) ? SCRUBBED : m));
}

/**
 * Replace every occurrence of the given values (e.g. the volunteer's public
 * IP address, learned at run time) with `[scrubbed]`. A value only matches as
 * a whole token: scrubbing 127.0.2.1 leaves 127.0.2.10 alone. Empty values are
 * ignored.
 */
export function scrubValues(text: string, values: readonly string[]): string {
  let out = text;
  for (const value of values) {
    if (value.length === 0) continue;
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // What may not follow: for IPv4 another digit or octet ("127.0.2.10"),
    // for IPv6 another hex group; a port after ":" is fine for IPv4.
    const follow = value.includes(':') ? '(?![0-9A-Za-z]|[.:][0-9A-Za-z])' : '(?![0-9A-Za-z]|\\.[0-9])';
    out = out.replace(new RegExp(`(?<![0-9A-Za-z.:])${escaped}${follow}`, 'g'), SCRUBBED);
  }
  return out;
}
