import { readFileSync, readdirSync } from 'node:fs';
import { type Fingerprint, loadFingerprints } from './fingerprints.js';
import { type InterceptionRoot, loadInterceptionRoots } from './interception-roots.js';

/**
 * The reference data a verdict rests on besides the observations: blockpage
 * fingerprints, CDN challenge fingerprints and known interception roots.
 * Passed in explicitly so a re-analysis can say exactly which data it used,
 * and tests can use their own.
 */
export interface VerdictReference {
  readonly httpFingerprints: readonly Fingerprint[];
  readonly dnsFingerprints: readonly Fingerprint[];
  /**
   * CDN and WAF challenge pages (shared/data/challenges/), in the blockpage
   * fingerprints' format: a response matching one is the site's CDN asking
   * for a browser check, not censorship (docs/verdicts.md).
   */
  readonly challengeFingerprints: readonly Fingerprint[];
  readonly interceptionRoots: readonly InterceptionRoot[];
}

// Resolved against this module, so the same path works from src/verdict/
// (tests, vitest) and dist/verdict/ (the built package): both sit two levels
// below the package root, beside data/.
const DATA = new URL('../../data/', import.meta.url);

/** Where the bundled reference data lives (shared/data/). */
export function referenceDataUrl(relative: string): URL {
  return new URL(relative, DATA);
}

/** The bundled interception roots' PEM texts (shared/data/interception/pem/*.pem), sorted by file name. */
export function readBundledInterceptionRootPems(): string[] {
  const dir = referenceDataUrl('interception/pem/');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.pem'))
    .sort()
    .map((name) => readFileSync(new URL(name, dir), 'utf8'));
}

let bundled: VerdictReference | undefined;

/**
 * The reference data shipped in shared/data/: OONI's blockpage fingerprints,
 * the challenge fingerprints and the Kazakh interception roots, read from
 * disk once and cached. Pass
 * `extraInterceptionRootPems` (e.g. the probe's `--interception-roots PEM`)
 * to add roots; the cached bundle is not modified.
 */
export function defaultVerdictReference(options: { readonly extraInterceptionRootPems?: readonly string[] } = {}): VerdictReference {
  if (bundled === undefined) {
    const fingerprints = loadFingerprints(
      readFileSync(referenceDataUrl('fingerprints/fingerprints_http.csv'), 'utf8'),
      readFileSync(referenceDataUrl('fingerprints/fingerprints_dns.csv'), 'utf8'),
    );
    bundled = {
      httpFingerprints: fingerprints.http,
      dnsFingerprints: fingerprints.dns,
      challengeFingerprints: loadFingerprints(readFileSync(referenceDataUrl('challenges/challenge_fingerprints.csv'), 'utf8'), '').http,
      interceptionRoots: loadInterceptionRoots(readBundledInterceptionRootPems()),
    };
  }
  const extra = options.extraInterceptionRootPems ?? [];
  return extra.length === 0 ? bundled : withInterceptionRoots(bundled, loadInterceptionRoots(extra));
}

/** A copy of `reference` with more known interception roots (duplicates by DER digest dropped). */
export function withInterceptionRoots(reference: VerdictReference, roots: readonly InterceptionRoot[]): VerdictReference {
  const known = new Set(reference.interceptionRoots.map((r) => r.sha256));
  return { ...reference, interceptionRoots: [...reference.interceptionRoots, ...roots.filter((r) => !known.has(r.sha256))] };
}

/** A copy of `reference` with more blockpage (or challenge) fingerprints (e.g. a lab's or a researcher's own CSV). */
export function withFingerprints(
  reference: VerdictReference,
  extra: { readonly http?: readonly Fingerprint[]; readonly dns?: readonly Fingerprint[]; readonly challenge?: readonly Fingerprint[] },
): VerdictReference {
  return {
    ...reference,
    httpFingerprints: [...reference.httpFingerprints, ...(extra.http ?? [])],
    dnsFingerprints: [...reference.dnsFingerprints, ...(extra.dns ?? [])],
    challengeFingerprints: [...reference.challengeFingerprints, ...(extra.challenge ?? [])],
  };
}

/** Reference data with nothing in it: only differential rules apply. */
export const EMPTY_VERDICT_REFERENCE: VerdictReference = { httpFingerprints: [], dnsFingerprints: [], challengeFingerprints: [], interceptionRoots: [] };
