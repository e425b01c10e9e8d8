import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';

/** Loopback servers playing the honest Internet for control tests. */

/** What the test resolver answers for a name. */
export interface ZoneEntry {
  readonly A?: readonly string[];
  readonly AAAA?: readonly string[];
  /** RCODE to answer with (e.g. 3 NXDOMAIN); 0 by default. */
  readonly rcode?: number;
}

/** A UDP DNS resolver on 127.0.0.1 answering from a zone map (unknown names: NXDOMAIN). */
export interface TestResolver {
  readonly host: string;
  readonly port: number;
  readonly queries: string[];
  close(): Promise<void>;
}

export async function startResolver(zone: Readonly<Record<string, ZoneEntry>>): Promise<TestResolver> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (message, rinfo) => {
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return;
    }
    const question = query.questions?.[0];
    if (question === undefined) return;
    const name = question.name.toLowerCase();
    queries.push(`${question.type} ${name}`);
    const entry = zone[name];
    const rcode = entry === undefined ? 3 : (entry.rcode ?? 0);
    const data = question.type === 'A' ? entry?.A ?? [] : question.type === 'AAAA' ? entry?.AAAA ?? [] : [];
    const response = dnsPacket.encode({
      type: 'response',
      id: query.id ?? 0,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode,
      questions: query.questions ?? [],
      answers: rcode === 0 ? data.map((d) => ({ type: question.type, name: question.name, ttl: 60, class: 'IN', data: d }) as dnsPacket.Answer) : [],
    });
    socket.send(response, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1',
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A lab CA and a leaf for site.test / www.site.test, made with openssl at test time. */
export interface LabPki {
  readonly caPem: string;
  readonly key: string;
  /** Leaf then CA. */
  readonly chain: string;
  readonly leafDer: Uint8Array;
  cleanup(): void;
}

export function makeLabPki(): LabPki {
  const dir = mkdtempSync(join(tmpdir(), 'steppe-control-pki-'));
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '3',
    '-subj', '/O=Steppe Lab/CN=Steppe Control Test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=site.test']);
  writeFileSync(join(dir, 'leaf.ext'), 'subjectAltName=DNS:site.test,DNS:www.site.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'leaf.ext', '-out', 'leaf.pem']);
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const leafPem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
  return {
    caPem,
    key: readFileSync(join(dir, 'leaf.key'), 'utf8'),
    chain: leafPem + caPem,
    leafDer: new Uint8Array(new X509Certificate(leafPem).raw),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A web server on 127.0.0.1 that counts requests. */
export interface TestSite {
  readonly port: number;
  readonly requests: string[];
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(server: HttpServer, requests: string[]): Promise<TestSite> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** An HTTPS site serving `handler` with the lab certificate. */
export async function startHttpsSite(pki: LabPki, handler: Handler): Promise<TestSite> {
  const requests: string[] = [];
  const server = createHttpsServer({ key: pki.key, cert: pki.chain }, (req, res) => {
    requests.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
    handler(req, res);
  });
  server.on('tlsClientError', () => undefined);
  return listen(server, requests);
}

/** A plain HTTP site serving `handler`. */
export async function startHttpSite(handler: Handler): Promise<TestSite> {
  const requests: string[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(`${req.headers.host ?? ''}${req.url ?? ''}`);
    handler(req, res);
  });
  return listen(server, requests);
}
