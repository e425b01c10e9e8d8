import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Cidr, EgressGuard, Trace, dnsAddresses, dnsLookup, httpGet, tcpConnect, tlsHandshake, wire } from '@steppe/shared';
import type { steppe } from '@steppe/proto';

/**
 * A tiny control vantage for engine tests, speaking the contract of
 * collector/src/control (POST /api/v1/control, {url, addresses} in,
 * ControlMeasurement.toObject JSON out), measuring with netx from its own
 * source address so the test censor treats it as "abroad".
 */
export interface TestControlServer {
  readonly url: string;
  readonly requests: { url: string; addresses: string[] }[];
  close(): Promise<void>;
}

export async function controlServer(options: {
  resolver: { host: string; port: number };
  localAddress: string;
  allowNet: readonly Cidr[];
  extraCa: string[];
  echoAddress?: boolean;
}): Promise<TestControlServer> {
  const guard = new EgressGuard(options.allowNet);
  const requests: { url: string; addresses: string[] }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { url: string; addresses: string[] };
        requests.push(body);
        const m = await measure(body.url, body.addresses, options, guard);
        const json = JSON.stringify(wire.ControlMeasurement.toObject(wire.ControlMeasurement.create(m), { longs: Number, bytes: String, defaults: true, arrays: true }));
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (options.echoAddress === true) headers['x-steppe-client-address'] = req.socket.remoteAddress ?? '';
        res.writeHead(req.url === '/api/v1/control' && req.method === 'POST' ? 200 : 404, headers).end(json);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function measure(
  url: string,
  probeAddresses: string[],
  options: { resolver: { host: string; port: number }; localAddress: string; extraCa: string[] },
  guard: EgressGuard,
): Promise<steppe.v1.ControlMeasurement.$Properties> {
  const trace = new Trace();
  const parsed = new URL(url);
  const https = parsed.protocol === 'https:';
  const port = parsed.port !== '' ? Number(parsed.port) : https ? 443 : 80;
  const common = { localAddress: options.localAddress, timeoutMs: 2000, guard, trace };
  const a = await dnsLookup({ hostname: parsed.hostname, queryType: 'A', resolver: options.resolver, transport: 'udp', duplicateWindowMs: 0, ...common });
  const own = dnsAddresses(a);
  const addresses = [...new Set([...own, ...probeAddresses])];
  const tcp: steppe.v1.ControlTcp.$Properties[] = [];
  const tls: steppe.v1.ControlTls.$Properties[] = [];
  for (const ip of addresses) {
    const t = await tcpConnect({ ip, port, ...common });
    tcp.push({ ip, port, failure: t.failure });
    if (!https || t.failure !== '') continue;
    const h = await tlsHandshake({ ip, port, serverName: parsed.hostname, extraCa: options.extraCa, ...common });
    const leaf = h.peerCertificates[0];
    tls.push({
      serverName: parsed.hostname,
      ip,
      port,
      failure: h.failure,
      leafSha256: leaf !== undefined ? createHash('sha256').update(leaf).digest() : new Uint8Array(),
      validForDomain: h.failure === '' && h.verificationError === '',
      issuerCn: leaf !== undefined ? (/CN=([^\n,]+)/.exec(new X509Certificate(leaf).issuer)?.[1] ?? '') : '',
    });
  }
  let http: steppe.v1.ControlHttp.$Properties = { failure: 'dns_nxdomain_error' };
  const first = own[0];
  if (first !== undefined) {
    const hops = await httpGet({ url, resolve: async () => own, firstAddress: first, extraCa: options.extraCa, ...common, timeoutMs: 4000 });
    const last = hops.at(-1);
    const samples = last?.throughput ?? [];
    const span = (samples.at(-1)?.tMs ?? 0) - (samples[0]?.tMs ?? 0);
    http = {
      statusCode: last?.statusCode ?? 0,
      bodyLength: last?.bodyLength ?? 0,
      title: last?.title ?? '',
      headerNames: (last?.responseHeaders ?? []).map((h) => h.name),
      failure: last?.failure ?? '',
      bodySha256: last?.bodySha256 ?? new Uint8Array(),
      bodyTruncated: last?.bodyTruncated ?? false,
      finalUrl: last?.url ?? url,
      throughputBps: span > 0 ? ((last?.bodyLength ?? 0) * 1000) / span : 0,
    };
  }
  return {
    failure: '',
    dns: { addresses: own.map((ip) => ({ ip, asn: 0, asOrg: '' })), failure: a.failure },
    tcp,
    tls,
    http,
    measuredAtMs: Date.now(),
    helper: 'test-control',
    probeAddresses: probeAddresses.map((ip) => ({ ip, asn: 0, asOrg: '' })),
  };
}
