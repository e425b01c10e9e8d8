import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import { type Clock, InvalidArgumentError, cidrContains, systemClock } from '@steppe/shared';
import { LAB_RANGES, LOOPBACK_BOGON, NAMESPACE_BOGON, assertLabAddress, nthHostAfter } from './addresses.js';
import { Censor } from './censor.js';
import {
  type CertifiedKey, forgeCertificate, forgeCertificateForName, issueSiteCertificate, labRootCa, labStateRoot,
} from './certificates.js';
import { LabLog } from './event-log.js';
import { dnsFingerprintsCsv, httpFingerprintsCsv } from './fingerprints.js';
import { acceptConnection } from './front.js';
import { LAB_NETWORKS, type LabNetwork, type LabNetworkSpec, NetworkTable } from './networks.js';
import { LabResolver } from './resolver.js';
import { BLOCKPAGE_DOMAIN, DOH_DOMAIN, LAB_SITES, type LabSite, type LabSiteSpec, normalizeDomain } from './sites.js';
import { DOH_PATH, WebHandler } from './web.js';

/** Options of `startLab`; every one has a default for the loopback tier. */
export interface LabOptions {
  /** Simulated networks (default LAB_NETWORKS: three Kazakh networks and the control). */
  readonly networks?: readonly LabNetworkSpec[];
  /** The hosts of the simulated Internet (default LAB_SITES). Must include the blockpage host. */
  readonly sites?: readonly LabSiteSpec[];
  /** More hosts, appended to `sites` (e.g. for benchmarks). */
  readonly extraSites?: readonly LabSiteSpec[];
  /** Address of the first site; the next ones follow (default 127.10.0.1). */
  readonly firstSiteAddress?: string;
  /** Address of the resolver (default 127.53.0.1). */
  readonly resolverAddress?: string;
  /** Address of the public resolver (default: the host after the resolver's, 127.53.0.2). */
  readonly publicResolverAddress?: string;
  /**
   * The reserved address tests inject as a "bogon" answer (default
   * 198.19.255.254 on loopback, 127.0.0.1 when the sites are in 198.18.0.0/15).
   */
  readonly bogonAddress?: string;
  /** Ports (default 0: allocated, the same port on every site address). */
  readonly ports?: { readonly http?: number; readonly https?: number; readonly dns?: number };
  /** Approximate size of each home page in bytes (default 24 KiB). */
  readonly pageBytes?: number;
  /** Size of each site's /static/large.bin (default 1 MiB). */
  readonly largeBytes?: number;
  /** Timestamps of the event log (default: the system clock). */
  readonly clock?: Clock;
  /** Events kept in the log (default 100 000). */
  readonly logLimit?: number;
}

/** The lab's resolver endpoint. */
export interface LabEndpoint {
  readonly host: string;
  readonly port: number;
  /** "host:port", the form of `--resolver`. */
  readonly address: string;
}

/** What a running lab is made of: the data a lab process reports to its parent (WorldDescriptor). */
export interface LabDescription {
  /** Temporary directory holding the PEM and CSV files below (removed by `close`). */
  readonly dir: string;
  /** The lab root CA (PEM) that signs every honest site: the probe's and control's `--ca-file`. */
  readonly rootCaPem: string;
  /** Path of `rootCaPem`. */
  readonly rootCaFile: string;
  /** The state interception root (PEM): add it to the probe's `--interception-roots`. */
  readonly stateRootPem: string;
  /** Path of `stateRootPem`. */
  readonly stateRootFile: string;
  /** The resolver (UDP and TCP), censoring by source address: the ISP's, the probe's system resolver. */
  readonly resolver: LabEndpoint;
  /**
   * A public resolver outside the censor's networks, like 8.8.8.8 (UDP and
   * TCP): the censor's resolver rules do not apply to it, only on-path ones
   * (`dns-inject`, `shutdown`). The probe's `--third-party-resolver`.
   */
  readonly publicResolver: LabEndpoint;
  /** The honest DNS-over-HTTPS endpoint (https URL, lab root CA). */
  readonly dohUrl: string;
  /** Ports shared by every site address. */
  readonly ports: { readonly http: number; readonly https: number };
  readonly networks: readonly LabNetwork[];
  readonly sites: readonly LabSite[];
  /** The blockpage server's address (the default forged DNS answer). */
  readonly blockpageAddress: string;
  /** A reserved address nobody listens on, for bogon-answer scenarios. */
  readonly bogonAddress: string;
  /** The lab censor's fingerprints (OONI CSV format) and the files holding them. */
  readonly fingerprints: { readonly httpCsv: string; readonly dnsCsv: string; readonly httpFile: string; readonly dnsFile: string };
}

/** A running censorship lab. */
export interface Lab extends LabDescription {
  /** The censor's rule book, changeable at any time. */
  readonly censor: Censor;
  /** What every lab server saw, per source address. */
  readonly log: LabLog;
  /** The address of a lab host. */
  address(domain: string): string;
  /** The URL to measure, with the lab's port: `url('www.facebook.com')` → `https://www.facebook.com:PORT/`. */
  url(domain: string, scheme?: 'http' | 'https', path?: string): string;
  /** The default source address (`--local-address`) of a network, e.g. `source('kazakhtelecom')` → 127.0.2.1. */
  source(network: string): string;
  /** Stop every server, drop every connection, remove `dir`. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_FIRST_SITE = '127.10.0.1';
const DEFAULT_RESOLVER = '127.53.0.1';
const DEFAULT_PAGE_BYTES = 24 * 1024;
const DEFAULT_LARGE_BYTES = 1024 * 1024;

function positiveInteger(value: number | undefined, fallback: number, what: string, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidArgumentError(`${what}: expected an integer from 1 to ${max}, got ${value}`);
  return value;
}

function port(value: number | undefined, what: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new InvalidArgumentError(`${what}: expected a port from 0 to 65535, got ${value}`);
  return value;
}

function listen(server: TcpServer, host: string, portNumber: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host, port: portNumber, backlog: 1024, exclusive: true }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : portNumber);
    });
  });
}

function closeServer(server: TcpServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Bind one server per address on a common port: the first on `wanted` (0:
 * any), the others on the port it got; retried when another process holds
 * that port on one of the addresses.
 */
async function listenOnCommonPort(addresses: readonly string[], wanted: number, make: (address: string) => TcpServer): Promise<{ port: number; servers: TcpServer[] }> {
  for (let attempt = 0; ; attempt += 1) {
    const servers: TcpServer[] = [];
    try {
      let chosen = wanted;
      for (const address of addresses) {
        const server = make(address);
        servers.push(server);
        chosen = await listen(server, address, chosen);
      }
      return { port: chosen, servers };
    } catch (err) {
      await Promise.all(servers.map(closeServer));
      if (wanted !== 0 || attempt >= 20 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

function planSites(options: LabOptions): LabSite[] {
  const specs = [...(options.sites ?? LAB_SITES), ...(options.extraSites ?? [])];
  const first = assertLabAddress(options.firstSiteAddress ?? DEFAULT_FIRST_SITE, 'firstSiteAddress');
  const seen = new Set<string>();
  const sites = specs.map((spec, i): LabSite => {
    const domain = normalizeDomain(spec.domain, `sites[${i}].domain`);
    if (seen.has(domain)) throw new InvalidArgumentError(`sites[${i}].domain: duplicate ${domain}`);
    seen.add(domain);
    return { ...spec, domain, role: spec.role ?? 'site', address: assertLabAddress(nthHostAfter(first, i), `sites[${i}] address`) };
  });
  if (!sites.some((s) => s.role === 'blockpage')) {
    throw new InvalidArgumentError(`sites: one site must have role "blockpage" (e.g. ${BLOCKPAGE_DOMAIN})`);
  }
  return sites;
}

/**
 * Start the censorship lab: a resolver, every site on HTTP and HTTPS, a
 * censor that acts by source network, and an event log. Certificates are made
 * with openssl on first use and cached for the process.
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  const networks = new NetworkTable(options.networks ?? LAB_NETWORKS);
  const sites = planSites(options);
  const resolverHost = assertLabAddress(options.resolverAddress ?? DEFAULT_RESOLVER, 'resolverAddress');
  if (sites.some((s) => s.address === resolverHost)) throw new InvalidArgumentError('resolverAddress: collides with a site address');
  const publicResolverHost = assertLabAddress(options.publicResolverAddress ?? nthHostAfter(resolverHost, 1), 'publicResolverAddress');
  if (publicResolverHost === resolverHost || sites.some((s) => s.address === publicResolverHost)) {
    throw new InvalidArgumentError('publicResolverAddress: collides with the resolver or a site address');
  }
  const onLoopback = cidrContains(LAB_RANGES.loopback, sites[0]?.address ?? DEFAULT_FIRST_SITE);
  const bogonAddress = assertLabAddress(options.bogonAddress ?? (onLoopback ? LOOPBACK_BOGON : NAMESPACE_BOGON), 'bogonAddress');
  const pageBytes = positiveInteger(options.pageBytes, DEFAULT_PAGE_BYTES, 'pageBytes', 64 * 1024 * 1024);
  const largeBytes = positiveInteger(options.largeBytes, DEFAULT_LARGE_BYTES, 'largeBytes', 256 * 1024 * 1024);
  const logLimit = positiveInteger(options.logLimit, 100_000, 'logLimit', 10_000_000);
  const wantedPorts = { http: port(options.ports?.http, 'ports.http'), https: port(options.ports?.https, 'ports.https'), dns: port(options.ports?.dns, 'ports.dns') };

  const [rootCa, stateRoot, leaves] = await Promise.all([
    labRootCa(),
    labStateRoot(),
    Promise.all(sites.map((s) => issueSiteCertificate({ domain: s.domain, organization: s.organization, ...(s.altNames === undefined ? {} : { altNames: s.altNames }) }))),
  ]);
  const leafByDomain = new Map(sites.map((s, i) => [s.domain, leaves[i] as CertifiedKey]));

  const blockpage = sites.find((s) => s.role === 'blockpage');
  if (blockpage === undefined) throw new InvalidArgumentError('sites: no blockpage host');
  const zone = new Map(sites.map((s) => [s.domain, s.address]));
  const sitesByAddress = new Map(sites.map((s) => [s.address, s]));
  const sitesByDomain = new Map(sites.map((s) => [s.domain, s]));
  const log = new LabLog(options.clock ?? systemClock, logLimit);
  const censor = new Censor(networks);
  const sockets = new Set<Socket>();
  const rawSockets = new Map<string, Socket>();
  const pacers = new Set<() => void>();
  const servers: TcpServer[] = [];
  let resolver: LabResolver | undefined;
  let publicResolver: LabResolver | undefined;
  const dir = await mkdtemp(join(tmpdir(), 'steppe-lab-'));

  const shutdown = async (): Promise<void> => {
    for (const stop of [...pacers]) stop();
    // server.close() waits for open connections: stop listening, then drop them.
    const closed = Promise.all([...servers.map(closeServer), resolver?.close(), publicResolver?.close()]);
    for (const socket of sockets) socket.destroy();
    await closed;
    await rm(dir, { recursive: true, force: true });
  };

  try {
    // The http port must be known before the handler builds redirects: bind first, serve later.
    let httpPort = 0;
    const web = new WebHandler({
      sitesByAddress, sitesByDomain, zone, censor, networks, log, get httpPort() { return httpPort; },
      blockpageAddress: blockpage.address, pageBytes, largeBytes, rawSockets,
      track: (stop) => {
        pacers.add(stop);
        return () => pacers.delete(stop);
      },
    });
    const httpServer = createHttpServer((req, res) => web.handle(req, res, false));
    const originServers = new Map<string, HttpsServer>();
    for (const site of sites) {
      const leaf = leafByDomain.get(site.domain);
      if (leaf === undefined) continue;
      const server = createHttpsServer({ key: leaf.keyPem, cert: leaf.certPem, ALPNProtocols: ['http/1.1'] }, (req, res) => web.handle(req, res, false));
      server.on('tlsClientError', () => undefined);
      originServers.set(site.domain, server);
    }
    const forged = new Map<string, Promise<SecureContext>>();
    const interceptServer = createHttpsServer({
      ALPNProtocols: ['http/1.1'],
      SNICallback: (name, callback) => {
        let context = forged.get(name);
        if (context === undefined) {
          const original = leafByDomain.get(name);
          context = (original === undefined ? forgeCertificateForName(name) : forgeCertificate(original.certPem))
            // A middlebox rarely sends its root: the chain is the forged leaf alone.
            .then((leaf) => createSecureContext({ key: leaf.keyPem, cert: leaf.certPem }));
          forged.set(name, context);
        }
        context.then((ctx) => callback(null, ctx), (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
      },
    }, (req, res) => web.handle(req, res, true));
    interceptServer.on('tlsClientError', () => undefined);

    const frontContext = { censor, networks, log, httpServer, originServers, interceptServer, sockets, rawSockets };
    const makeFront = (scheme: 'http' | 'https') => (address: string): TcpServer => {
      const site = sitesByAddress.get(address);
      const server = createTcpServer((socket) => {
        if (site === undefined) socket.destroy();
        else acceptConnection(socket, site, scheme, frontContext);
      });
      return server;
    };
    const addresses = sites.map((s) => s.address);
    const http = await listenOnCommonPort(addresses, wantedPorts.http, makeFront('http'));
    servers.push(...http.servers);
    httpPort = http.port;
    const https = await listenOnCommonPort(addresses, wantedPorts.https, makeFront('https'));
    servers.push(...https.servers);
    resolver = await LabResolver.start({ zone, censor, networks, log, blockpageAddress: blockpage.address }, resolverHost, wantedPorts.dns);
    publicResolver = await LabResolver.start({ zone, censor, networks, log, blockpageAddress: blockpage.address, public: true }, publicResolverHost, wantedPorts.dns);

    const rootCaFile = join(dir, 'lab-root-ca.pem');
    const stateRootFile = join(dir, 'state-root.pem');
    const httpCsv = httpFingerprintsCsv();
    const dnsCsv = dnsFingerprintsCsv(blockpage.address);
    const httpFile = join(dir, 'fingerprints_http.csv');
    const dnsFile = join(dir, 'fingerprints_dns.csv');
    await Promise.all([
      writeFile(rootCaFile, rootCa.certPem),
      writeFile(stateRootFile, stateRoot.certPem),
      writeFile(httpFile, httpCsv),
      writeFile(dnsFile, dnsCsv),
    ]);

    const endpoint = (r: LabResolver): LabEndpoint => ({ host: r.host, port: r.port, address: `${r.host}:${r.port}` });
    const ports = { http: http.port, https: https.port };
    let closing: Promise<void> | undefined;
    const site = (domain: string): LabSite => {
      const found = sitesByDomain.get(domain.toLowerCase().replace(/\.$/, ''));
      if (found === undefined) throw new InvalidArgumentError(`${JSON.stringify(domain)} is not a lab host (known: ${sites.map((s) => s.domain).join(', ')})`);
      return found;
    };
    const lab: Lab = {
      dir,
      rootCaPem: rootCa.certPem,
      rootCaFile,
      stateRootPem: stateRoot.certPem,
      stateRootFile,
      resolver: endpoint(resolver),
      publicResolver: endpoint(publicResolver),
      dohUrl: sitesByDomain.has(DOH_DOMAIN) ? `https://${DOH_DOMAIN}:${ports.https}${DOH_PATH}` : '',
      ports,
      networks: networks.all,
      sites,
      blockpageAddress: blockpage.address,
      bogonAddress,
      fingerprints: { httpCsv, dnsCsv, httpFile, dnsFile },
      censor,
      log,
      address: (domain) => site(domain).address,
      url: (domain, scheme = 'https', path = '/') => {
        if (scheme !== 'http' && scheme !== 'https') throw new InvalidArgumentError(`scheme: expected "http" or "https", got ${JSON.stringify(scheme)}`);
        if (!path.startsWith('/')) throw new InvalidArgumentError(`path: expected a path starting with "/", got ${JSON.stringify(path)}`);
        return `${scheme}://${site(domain).domain}:${ports[scheme]}${path}`;
      },
      source: (network) => networks.get(network).source,
      close: () => {
        closing ??= shutdown();
        return closing;
      },
    };
    return lab;
  } catch (err) {
    await shutdown();
    throw err;
  }
}
