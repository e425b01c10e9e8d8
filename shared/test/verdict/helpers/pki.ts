import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate in PEM and DER. */
export interface TestCert {
  readonly pem: string;
  readonly der: Uint8Array;
}

/**
 * Certificates for interception tests, generated at test time with openssl
 * (EC P-256, fast): a "state root" like Qaznet's, an intermediate it issued
 * (the 2019 middlebox's "Security Certificate"), leaves re-signed for
 * www.facebook.com, a forged root with the same name but another key, and an
 * honest root + leaf playing the real site.
 */
export interface InterceptionPki {
  readonly stateRoot: TestCert;
  readonly intermediate: TestCert;
  /** www.facebook.com, issued by the intermediate. */
  readonly leafViaIntermediate: TestCert;
  /** www.facebook.com, issued directly by the state root, without key identifiers. */
  readonly leafViaRoot: TestCert;
  /** Same subject as the state root, different key. */
  readonly forgedRoot: TestCert;
  /** www.facebook.com issued by the forged root: its issuer name matches the state root's. */
  readonly leafViaForged: TestCert;
  readonly honestRoot: TestCert;
  /** The real site's leaf, issued by the honest root. */
  readonly honestLeaf: TestCert;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function read(dir: string, name: string): TestCert {
  const pem = readFileSync(join(dir, `${name}.pem`), 'utf8');
  return { pem, der: new Uint8Array(new X509Certificate(pem).raw) };
}

function root(dir: string, name: string, subject: string): TestCert {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '3', '-subj', subject, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return read(dir, name);
}

function issue(dir: string, name: string, subject: string, issuer: string, extensions: string): TestCert {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2',
    '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  return read(dir, name);
}

const LEAF_EXT = 'subjectAltName=DNS:www.facebook.com,DNS:facebook.com\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n';
// No key identifiers: the issuer is then found by name alone, so only the
// signature tells a forged issuer from the real one.
const BARE_LEAF_EXT = `${LEAF_EXT}authorityKeyIdentifier=none\nsubjectKeyIdentifier=none\n`;

/** Generate the interception PKI in a fresh temp dir. */
export function makeInterceptionPki(): InterceptionPki {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-verdict-pki-'));
  const stateRoot = root(dir, 'state', '/C=KZ/CN=Lab State Root');
  const intermediate = issue(dir, 'inter', '/C=KZ/CN=Security Certificate', 'state',
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  const leafViaIntermediate = issue(dir, 'leaf1', '/CN=www.facebook.com', 'inter', LEAF_EXT);
  const leafViaRoot = issue(dir, 'leaf2', '/CN=www.facebook.com', 'state', BARE_LEAF_EXT);
  const forgedRoot = root(dir, 'forged', '/C=KZ/CN=Lab State Root');
  const leafViaForged = issue(dir, 'leaf3', '/CN=www.facebook.com', 'forged', BARE_LEAF_EXT);
  const honestRoot = root(dir, 'honest', '/O=Lab Honest CA/CN=Lab Honest Root');
  const honestLeaf = issue(dir, 'leaf4', '/CN=www.facebook.com', 'honest', LEAF_EXT);
  return {
    stateRoot,
    intermediate,
    leafViaIntermediate,
    leafViaRoot,
    forgedRoot,
    leafViaForged,
    honestRoot,
    honestLeaf,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
