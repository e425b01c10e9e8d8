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

/**
 * Find a known interception root in (or above) a peer's chain, DER leaf
 * first. A middlebox rarely sends its root, so besides the root's own
 * fingerprint and public key, each certificate is checked for having been
 * issued by a root: issuer name and key identifiers chain
 * (`X509Certificate.checkIssued`) and the signature verifies with the root's
 * key (`X509Certificate.verify`). A forged name alone never matches.
 */
export function findInterceptionRoot(chain: readonly Uint8Array[], roots: readonly InterceptionRoot[]): InterceptionMatch | undefined {
  if (roots.length === 0) return undefined;
  const parsed = chain.map(parseDerCertificate);
  for (let i = 0; i < parsed.length; i += 1) {
    const cert = parsed[i];
    if (cert === undefined) continue;
    const digest = hex(cert.raw);
    const spki = spkiSha256(cert);
    for (const root of roots) {
      if (root.sha256 === digest) return { root, chainIndex: i, kind: 'fingerprint', issuerCn: root.subjectCn };
      if (spki !== '' && root.spkiSha256 === spki) return { root, chainIndex: i, kind: 'public_key', issuerCn: root.subjectCn };
    }
  }
  for (let i = 0; i < parsed.length; i += 1) {
    const cert = parsed[i];
    if (cert === undefined) continue;
    for (const root of roots) {
      if (issuedBy(cert, root)) return { root, chainIndex: i, kind: 'signature', issuerCn: root.subjectCn };
    }
  }
  return undefined;
}

/** SHA-256 (lowercase hex) of a DER certificate. */
export function certificateSha256(der: Uint8Array): string {
  return hex(der);
}
