import { X509Certificate, createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';

/**
 * Known interception CAs (e.g. Kazakhstan's "Qaznet Trust Network" and ISCA
 * roots, shared/data/interception/) and the matching of a peer's certificate
 * chain against them. Pure: X.509 parsing and signature checks with
 * node:crypto, no I/O.
 */

/** A known interception root (or intermediate) certificate. */
export interface InterceptionRoot {
  readonly certificate: X509Certificate;
  /** Subject common name, e.g. "Qaznet Trust Network". */
  readonly subjectCn: string;
  /** SHA-256 of the DER certificate, lowercase hex. */
  readonly sha256: string;
  /** SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex (how Chromium's blocklist names keys). */
  readonly spkiSha256: string;
}

/** How a chain was tied to a known interception root. */
export type InterceptionMatchKind =
  /** The peer sent the root itself (same DER). */
  | 'fingerprint'
  /** A certificate in the chain carries the root's public key (a re-issued or cross-signed root). */
  | 'public_key'
  /** A certificate in the chain was issued by the root: names chain and the signature verifies with the root's key. */
  | 'signature';

/** A chain certificate tied to a known interception root. */
export interface InterceptionMatch {
  readonly root: InterceptionRoot;
  /** Index in the peer's chain (0 = leaf) of the certificate that matched. */
  readonly chainIndex: number;
  readonly kind: InterceptionMatchKind;
  /** Common name of the interception CA (the root's subject CN). */
  readonly issuerCn: string;
  /** Subject common name of the chain certificate that matched ('' if none). */
  readonly subjectCn: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The CN attribute of a distinguished name as node:crypto prints it ("C=KZ\nCN=..."), '' if none. */
export function commonNameOf(distinguishedName: string): string {
  for (const line of distinguishedName.split('\n')) {
    if (line.startsWith('CN=')) return line.slice(3);
  }
  return '';
}

// SHA-256 of the SubjectPublicKeyInfo; '' for a key type node:crypto cannot export.
function spkiSha256(certificate: X509Certificate): string {
  try {
    return hex(certificate.publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return '';
  }
}

function toRoot(certificate: X509Certificate): InterceptionRoot {
  return {
    certificate,
    subjectCn: commonNameOf(certificate.subject),
    sha256: hex(certificate.raw),
    spkiSha256: spkiSha256(certificate),
  };
}

/**
 * Parse known interception roots from PEM texts. Each text may hold several
 * certificates (a bundle). Throws InvalidArgumentError naming the text's
 * index when it holds no certificate or one that does not parse. Duplicates
 * (same DER) are kept once.
 */
export function loadInterceptionRoots(pems: readonly string[]): InterceptionRoot[] {
  const roots: InterceptionRoot[] = [];
  const seen = new Set<string>();
  pems.forEach((pem, index) => {
    const blocks = pem.match(PEM_BLOCK) ?? [];
    if (blocks.length === 0) throw new InvalidArgumentError(`interception root #${index}: no PEM certificate found`);
    for (const block of blocks) {
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(block);
      } catch (cause) {
        throw new InvalidArgumentError(`interception root #${index}: not a valid X.509 certificate`, { cause });
      }
      const root = toRoot(certificate);
      if (seen.has(root.sha256)) continue;
      seen.add(root.sha256);
      roots.push(root);
    }
  });
  return roots;
}

/** Parse one DER certificate from a peer chain; undefined when it is not a certificate. */
export function parseDerCertificate(der: Uint8Array): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

function issuedBy(cert: X509Certificate, root: InterceptionRoot): boolean {
  try {
    return cert.checkIssued(root.certificate) && cert.verify(root.certificate.publicKey);
  } catch {
    return false;
  }
}

/** What one chain certificate is, against a list of roots (see findInterceptionRoot). */
interface CertificateFinding {
  /** Its subject CN ('' for bytes that are not a certificate: they match nothing). */
  readonly subjectCn: string;
  /** The first root (in list order) that this certificate is, or whose public key it carries. */
  readonly sameAs?: { readonly root: InterceptionRoot; readonly kind: 'fingerprint' | 'public_key' };
  /** The first root (in list order) that issued this certificate. */
  readonly issuedBy?: InterceptionRoot;
}

function judgeCertificate(der: Uint8Array, digest: string, roots: readonly InterceptionRoot[]): CertificateFinding {
  const cert = parseDerCertificate(der);
  if (cert === undefined) return { subjectCn: '' };
  let sameAs: CertificateFinding['sameAs'];
  const spki = spkiSha256(cert);
  for (const root of roots) {
    if (root.sha256 === digest) {
      sameAs = { root, kind: 'fingerprint' };
      break;
    }
    if (spki !== '' && root.spkiSha256 === spki) {
      sameAs = { root, kind: 'public_key' };
      break;
    }
  }
  const issuer = roots.find((root) => issuedBy(cert, root));
  return { subjectCn: commonNameOf(cert.subject), ...(sameAs !== undefined ? { sameAs } : {}), ...(issuer !== undefined ? { issuedBy: issuer } : {}) };
}

// What each certificate was found to be, per list of roots, by the SHA-256
// of its DER. Parsing a certificate and exporting its key with node:crypto
// costs ~0.5 ms, and a run meets the same certificates over and over (a
// site's chain in every handshake to each of its addresses, CDN and CA
// intermediates across sites): that was most of verdictFor's time. Bounded;
// the oldest findings go first.
const MAX_FINDINGS = 2048;
const findings = new WeakMap<readonly InterceptionRoot[], { readonly roots: readonly InterceptionRoot[]; readonly byDigest: Map<string, CertificateFinding> }>();

function findingsFor(roots: readonly InterceptionRoot[]): Map<string, CertificateFinding> {
  let entry = findings.get(roots);
  // The same list, unchanged since (readonly in type only): compare it element by element.
  if (entry === undefined || entry.roots.length !== roots.length || entry.roots.some((r, i) => r !== roots[i])) {
    entry = { roots: [...roots], byDigest: new Map() };
    findings.set(roots, entry);
  }
  return entry.byDigest;
}

function findingOf(der: Uint8Array, roots: readonly InterceptionRoot[], byDigest: Map<string, CertificateFinding>): CertificateFinding {
  const digest = hex(der);
  let finding = byDigest.get(digest);
  if (finding === undefined) {
    finding = judgeCertificate(der, digest, roots);
    if (byDigest.size >= MAX_FINDINGS) byDigest.delete(byDigest.keys().next().value ?? '');
    byDigest.set(digest, finding);
  }
  return finding;
}

/**
 * Find a known interception root in (or above) a peer's chain, DER leaf
 * first. A middlebox rarely sends its root, so besides the root's own
 * fingerprint and public key, each certificate is checked for having been
 * issued by a root: issuer name and key identifiers chain
 * (`X509Certificate.checkIssued`) and the signature verifies with the root's
 * key (`X509Certificate.verify`). A forged name alone never matches.
 * Fingerprint and public-key matches anywhere in the chain come before
 * signature matches. What a certificate is found to be is remembered (by its
 * DER digest, per list of roots), so a certificate met again costs a hash.
 */
export function findInterceptionRoot(chain: readonly Uint8Array[], roots: readonly InterceptionRoot[]): InterceptionMatch | undefined {
  if (roots.length === 0) return undefined;
  const byDigest = findingsFor(roots);
  const found = chain.map((der) => findingOf(der, roots, byDigest));
  for (let i = 0; i < found.length; i += 1) {
    const finding = found[i];
    const same = finding?.sameAs;
    if (finding !== undefined && same !== undefined) return { root: same.root, chainIndex: i, kind: same.kind, issuerCn: same.root.subjectCn, subjectCn: finding.subjectCn };
  }
  for (let i = 0; i < found.length; i += 1) {
    const finding = found[i];
    const issuer = finding?.issuedBy;
    if (finding !== undefined && issuer !== undefined) return { root: issuer, chainIndex: i, kind: 'signature', issuerCn: issuer.subjectCn, subjectCn: finding.subjectCn };
  }
  return undefined;
}

/** SHA-256 (lowercase hex) of a DER certificate. */
export function certificateSha256(der: Uint8Array): string {
  return hex(der);
}
