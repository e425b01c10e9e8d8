import type { steppe } from '@steppe/proto';
import { SERVER_CHALLENGE } from '../verdicts.js';
import type { ControlView } from './control-view.js';
import { type Fingerprint, matchHttpFingerprints } from './fingerprints.js';
import type { VerdictReference } from './reference.js';
import { type Context, type Decision, failed, httpName, matchResponse } from './rule-context.js';

/**
 * CDN challenge pages (docs/verdicts.md, "CDN challenge pages"): a CDN or
 * web application firewall answering some visitors (often a whole region)
 * with a browser check, a JavaScript challenge or a CAPTCHA, instead of the
 * page. The probe's page then differs from the control's, yet nothing was
 * censored: a browser passes the check. Recognised by fingerprints kept as
 * data with their sources (shared/data/challenges/), never by a guess.
 */

type HttpRequest = steppe.v1.HttpRequest.$Properties;

function strongUnlessVetoed(matches: readonly Fingerprint[]): Fingerprint | undefined {
  // An `fp` row describes a page that only looks like a challenge (a CDN's block page).
  if (matches.some((f) => f.strength === 'false_positive')) return undefined;
  return matches.find((f) => f.strength === 'strong');
}

/** The challenge fingerprint a response matches (body, headers), or undefined. */
export function challengeOf(h: HttpRequest, reference: VerdictReference): Fingerprint | undefined {
  return strongUnlessVetoed(matchResponse(h, reference.challengeFingerprints));
}

/**
 * The challenge fingerprint the control's page matches by its title: the
 * control keeps no body and only the names of the headers, so the title is
 * what can tell that the control itself was challenged.
 */
export function controlChallengeOf(control: ControlView, reference: VerdictReference): Fingerprint | undefined {
  const title = control.http?.title ?? '';
  if (title === '') return undefined;
  const matches = matchHttpFingerprints(reference.challengeFingerprints, { body: `<title>${title}</title>`, bodyComplete: false, headers: [] });
  return strongUnlessVetoed(matches.filter((f) => f.location === 'body'));
}

function authenticity(final: HttpRequest): string {
  let url: URL | undefined;
  try {
    url = new URL(final.url ?? '');
  } catch {
    url = undefined;
  }
  // The probe (and OONI's) fetch HTTPS only after a verified handshake.
  return url?.protocol === 'https:'
    ? `served over HTTPS, by a server holding a certificate valid for ${url.hostname}`
    : 'served over plain HTTP: nothing authenticates who answered (a censor dressing a blockpage as a challenge is not designed for, see docs/verdicts.md)';
}

/**
 * `accessible` with blocking type `server_challenge` when the final response
 * is a challenge page: the site answered, with a check a browser passes; the
 * page behind it was not compared. Not with inconsistent DNS: an answer from
 * an address unrelated to the site's is judged by the DNS rules.
 */
export function challengeRule(ctx: Context, note?: string): Decision | undefined {
  const final = ctx.final;
  if (final === undefined || failed(final.value) || ctx.consistency.state === 'inconsistent') return undefined;
  const fp = challengeOf(final.value, ctx.reference);
  if (fp === undefined) return undefined;
  const where = fp.location === 'header' ? `header ${fp.headerName}` : 'body';
  const control = ctx.control.httpOk
    ? `the page behind it was not compared with control.http (status ${ctx.control.http?.statusCode ?? 0})`
    : 'the page behind it was not compared';
  return {
    verdict: 'accessible',
    blockingType: SERVER_CHALLENGE,
    fingerprintId: fp.name,
    evidence: [
      `${httpName(final)}: status ${final.value.statusCode ?? 0}, ${where} matches the CDN challenge fingerprint ${fp.name} (${fp.source}): ` +
        'the site\'s CDN asked for a browser check, which a browser passes; not censorship',
      authenticity(final.value),
      note ?? control,
    ],
  };
}
