import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key and certificate chain in PEM. */
export interface KeyAndCert {
  readonly key: string;
  /** Leaf first, then intermediates (what a server sends). */
  readonly cert: string;
}

/** Test PKI generated at test time with openssl (EC P-256: fast). */
export interface TestPki {
  /** The lab root, to pass as extraCa. */
  readonly caPem: string;
  /** Valid for site.test (and www.site.test), issued by the root. */
  readonly valid: KeyAndCert;
  /** Issued by the root for other.test: wrong name for site.test. */
  readonly wrongName: KeyAndCert;
  /** Issued by the root for site.test, already expired. */
  readonly expired: KeyAndCert;
  /** Self-signed for site.test: unknown authority. */
  readonly selfSigned: KeyAndCert;
  /** A second root, the lab's "state root" (not trusted): it re-signs site.test like a middlebox. */
  readonly stateRootPem: string;
  /** site.test issued by the state root, chain without the root (a middlebox rarely sends it). */
  readonly intercepted: KeyAndCert;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function leaf(dir: string, name: string, san: string, days: string): KeyAndCert {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${san.split(',')[0]?.replace('DNS:', '')}`]);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  // A negative -days puts notAfter before notBefore: an expired certificate.
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', days, '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
  return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.pem`), 'utf8') };
}

/** Generate the test PKI in a fresh temp dir. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-netx-pki-'));
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3',
    '-subj', '/CN=Steppe Test Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const valid = leaf(dir, 'valid', 'DNS:site.test,DNS:www.site.test,DNS:blocked.test,DNS:flaky.test,DNS:mitm.test,DNS:gone.test,DNS:nx.test,DNS:stall.test', '2');
  const wrongName = leaf(dir, 'wrong', 'DNS:other.test', '2');
  const expired = leaf(dir, 'expired', 'DNS:site.test', '-1');
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'self.key', '-out', 'self.pem', '-days', '2',
    '-subj', '/CN=site.test', '-addext', 'subjectAltName=DNS:site.test']);
  const selfSigned = { key: readFileSync(join(dir, 'self.key'), 'utf8'), cert: readFileSync(join(dir, 'self.pem'), 'utf8') };
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'state.key', '-out', 'state.pem', '-days', '3',
    '-subj', '/CN=Lab State Root', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'mitm.key', '-out', 'mitm.csr', '-subj', '/CN=site.test']);
  writeFileSync(join(dir, 'mitm.ext'), 'subjectAltName=DNS:site.test,DNS:blocked.test,DNS:flaky.test,DNS:mitm.test\nbasicConstraints=CA:FALSE\n');
  openssl(dir, ['x509', '-req', '-in', 'mitm.csr', '-CA', 'state.pem', '-CAkey', 'state.key', '-CAcreateserial', '-days', '2', '-extfile', 'mitm.ext', '-out', 'mitm.pem']);
  const stateRootPem = readFileSync(join(dir, 'state.pem'), 'utf8');
  const intercepted = { key: readFileSync(join(dir, 'mitm.key'), 'utf8'), cert: readFileSync(join(dir, 'mitm.pem'), 'utf8') };
  return {
    caPem,
    stateRootPem,
    intercepted,
    valid: { key: valid.key, cert: valid.cert + caPem },
    wrongName,
    expired,
    selfSigned,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
