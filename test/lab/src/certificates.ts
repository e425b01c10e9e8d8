import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, SteppeError } from '@steppe/shared';

/**
 * The lab's certificates, made at test time with the `openssl` command (EC
 * P-256 keys: a few milliseconds each), never fetched. Two roots:
 *
 * - the **lab root CA**, which signs every honest site; the probe and the
 *   control trust it (`--ca-file`) as if it were a public CA;
 * - the **state root**, named like the one Kazakh users were told to install
 *   in 2019 ("Qaznet Trust Network") and 2020, which the interception
 *   middlebox uses to re-sign sites on the fly. The probe does not trust it;
 *   tests add it to `--interception-roots`.
 *
 * Everything is cached per process: several labs in one test file share keys.
 */

/** A certificate and its private key, PEM. */
export interface CertifiedKey {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Subject common name of the lab root CA. */
export const LAB_ROOT_CN = 'Steppe Lab Root CA';

/** Subject common name of the lab's state interception root (cf. "Qaznet Trust Network", 2019). */
export const STATE_ROOT_CN = 'Steppe Lab Security Certificate';

/** One relative distinguished name, e.g. ["CN", "www.facebook.com"]. */
export type NameAttribute = readonly [type: string, value: string];

const LAB_ROOT_SUBJECT: readonly NameAttribute[] = [['C', 'KZ'], ['O', 'Steppe Censorship Lab'], ['CN', LAB_ROOT_CN]];
const STATE_ROOT_SUBJECT: readonly NameAttribute[] = [['C', 'KZ'], ['O', 'Steppe Lab State Technical Service'], ['CN', STATE_ROOT_CN]];

// A config with no default extensions: every extension is given with -addext,
// so a leaf never inherits `CA:TRUE` from the distribution's openssl.cnf.
const MINIMAL_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

function run(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 30_000 }, (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new SteppeError('STEPPE_ERR_LAB', missing
        ? 'the censorship lab needs the openssl command to make its certificates (apt-get install openssl)'
        : `openssl ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`, { cause: error }));
    });
  });
}

/** `/C=KZ/O=.../CN=...` with the separators escaped as `openssl req -subj` wants. */
export function subjectArgument(subject: readonly NameAttribute[]): string {
  if (subject.length === 0) throw new InvalidArgumentError('a certificate subject needs at least one attribute');
  return subject.map(([type, value]) => `/${type}=${value.replace(/([\\/+=])/g, '\\$1')}`).join('');
}

interface IssueRequest {
  readonly subject: readonly NameAttribute[];
  readonly extensions: readonly string[];
  readonly days: number;
  /** Signer; undefined for a self-signed root. */
  readonly issuer?: CertifiedKey;
}

async function issue(request: IssueRequest): Promise<CertifiedKey> {
  const dir = await mkdtemp(join(tmpdir(), 'steppe-lab-cert-'));
  try {
    await writeFile(join(dir, 'openssl.cnf'), MINIMAL_CONFIG);
    const args = [
      'req', '-x509', '-new', '-config', 'openssl.cnf', '-utf8',
      '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'key.pem', '-out', 'cert.pem',
      '-subj', subjectArgument(request.subject), '-days', String(request.days), '-sha256',
    ];
    if (request.issuer !== undefined) {
      await writeFile(join(dir, 'ca.pem'), request.issuer.certPem);
      await writeFile(join(dir, 'ca-key.pem'), request.issuer.keyPem, { mode: 0o600 });
      args.push('-CA', 'ca.pem', '-CAkey', 'ca-key.pem');
    }
    for (const extension of request.extensions) args.push('-addext', extension);
    await run(args, dir);
    const [certPem, keyPem] = await Promise.all([readFile(join(dir, 'cert.pem'), 'utf8'), readFile(join(dir, 'key.pem'), 'utf8')]);
    return { certPem, keyPem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function rootExtensions(): string[] {
  return ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash'];
}

function leafExtensions(subjectAltName: string): string[] {
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${subjectAltName}`,
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ];
}

let labRoot: Promise<CertifiedKey> | undefined;
let stateRoot: Promise<CertifiedKey> | undefined;
const leaves = new Map<string, Promise<CertifiedKey>>();
const forgeries = new Map<string, Promise<CertifiedKey>>();

function cached<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    // A failure is not cached: the next caller tries again.
    value.catch(() => map.delete(key));
    map.set(key, value);
  }
  return value;
}

/** The lab root CA (made once per process). */
export function labRootCa(): Promise<CertifiedKey> {
  if (labRoot === undefined) {
    labRoot = issue({ subject: LAB_ROOT_SUBJECT, extensions: rootExtensions(), days: 3650 });
    labRoot.catch(() => { labRoot = undefined; });
  }
  return labRoot;
}

/** The state interception root (made once per process). */
export function labStateRoot(): Promise<CertifiedKey> {
  if (stateRoot === undefined) {
    stateRoot = issue({ subject: STATE_ROOT_SUBJECT, extensions: rootExtensions(), days: 3650 });
    stateRoot.catch(() => { stateRoot = undefined; });
  }
  return stateRoot;
}

/** Options of a site certificate. */
export interface LeafRequest {
  /** The common name and first subjectAltName. */
  readonly domain: string;
  /** Further DNS names (e.g. the apex, a wildcard). */
  readonly altNames?: readonly string[];
  /** Subject organisation. */
  readonly organization?: string;
}

/** A site certificate issued by the lab root CA (cached per process by its names). */
export async function issueSiteCertificate(request: LeafRequest): Promise<CertifiedKey> {
  const names = [request.domain, ...(request.altNames ?? [])];
  const subject: NameAttribute[] = [['C', 'US']];
  if (request.organization !== undefined) subject.push(['O', request.organization]);
  subject.push(['CN', request.domain]);
  const key = JSON.stringify([subject, names]);
  return cached(leaves, key, async () => {
    const root = await labRootCa();
    return issue({ subject, extensions: leafExtensions(names.map((n) => `DNS:${n}`).join(',')), days: 365, issuer: root });
  });
}

/**
 * Parse the subject of a certificate as node prints it ("C=US\nO=...\nCN=...")
 * into attributes, in order. Multi-valued RDNs are not used by the lab.
 */
export function subjectAttributes(certificate: X509Certificate): NameAttribute[] {
  return certificate.subject.split('\n').filter((line) => line.length > 0).map((line) => {
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`cannot read certificate subject line ${JSON.stringify(line)}`);
    // node escapes RFC 4514 specials with a backslash: O=Meta Platforms\, Inc.
    return [line.slice(0, eq), line.slice(eq + 1).replace(/\\(.)/g, '$1')] as const;
  });
}

/** node's subjectAltName text ("DNS:a, IP Address:1.2.3.4") as an openssl extension value. */
export function subjectAltNameArgument(certificate: X509Certificate): string | undefined {
  const text = certificate.subjectAltName;
  if (text === undefined || text.length === 0) return undefined;
  return text.split(/,\s*/).map((entry) => entry.replace(/^IP Address:/, 'IP:')).join(',');
}

/**
 * What the 2019 Kazakh middlebox did: a new leaf with the original's subject
 * and subjectAltName, a fresh key, issued by the state root. Cached per
 * original certificate.
 */
export async function forgeCertificate(originalPem: string): Promise<CertifiedKey> {
  const original = new X509Certificate(originalPem);
  const key = createHash('sha256').update(original.raw).digest('hex');
  return cached(forgeries, key, async () => {
    const issuer = await labStateRoot();
    const subject = subjectAttributes(original);
    const cn = subject.find(([type]) => type === 'CN')?.[1];
    const san = subjectAltNameArgument(original) ?? (cn === undefined ? undefined : `DNS:${cn}`);
    if (san === undefined) throw new InvalidArgumentError('cannot forge a certificate with neither subjectAltName nor common name');
    return issue({ subject, extensions: leafExtensions(san), days: 365, issuer });
  });
}

/** A leaf for a name the lab has no certificate for, as the middlebox forges it (state root). */
export async function forgeCertificateForName(domain: string): Promise<CertifiedKey> {
  return cached(forgeries, `name:${domain}`, async () => {
    const issuer = await labStateRoot();
    return issue({ subject: [['CN', domain]], extensions: leafExtensions(`DNS:${domain}`), days: 365, issuer });
  });
}
