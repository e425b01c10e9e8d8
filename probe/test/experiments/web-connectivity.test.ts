import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  type Measurement,
  type ObservationsProps,
  ManualClock,
  decodeMeasurement,
  encodeMeasurement,
  measurementProblem,
  measurementToJson,
  parseCidrList,
  probeIdFromPublicKey,
  generateSigningKeyPair,
} from '@steppe/shared';
import { type EngineOptions, measureTargets } from 'steppe-probe';
import { makeTestPki, type TestPki } from '../../../shared/test/netx/helpers/certs.js';
import { controlServer, type TestControlServer } from './helpers/control-server.js';
import { CONTROL_ADDRESS, PROBE_ADDRESS, miniLab, type MiniLab } from './helpers/mini-lab.js';

const LOOPBACK = parseCidrList('127.0.0.0/8,::1/128');
let pki: TestPki;
let lab: MiniLab;
let control: TestControlServer;
const probeId = probeIdFromPublicKey(generateSigningKeyPair().publicKey);

beforeAll(async () => {
  pki = makeTestPki();
  lab = await miniLab(pki);
  control = await controlServer({ resolver: lab.resolver, localAddress: CONTROL_ADDRESS, allowNet: LOOPBACK, extraCa: [pki.caPem], echoAddress: true });
});
afterAll(async () => {
  await control.close();
  await lab.close();
  pki.cleanup();
});

/** The lab's engine options; a key given as undefined is removed (e.g. no control). */
function engine(extra: { [K in keyof EngineOptions]?: EngineOptions[K] | undefined } = {}): EngineOptions {
  const options: Record<string, unknown> = {
    probeId,
    resolver: lab.resolver,
    controlUrl: control.url,
    allowNet: LOOPBACK,
    localAddress: PROBE_ADDRESS,
    extraCaPem: [pki.caPem],
    interceptionRootsPem: [pki.stateRootPem],
    labAddresses: LOOPBACK,
    controlSni: 'example.org',
    perTargetTimeoutMs: 8000,
    maxBodyBytes: 512 * 1024,
    concurrency: 4,
    ...extra,
  };
  for (const [key, value] of Object.entries(options)) if (value === undefined) delete options[key];
  return options as unknown as EngineOptions;
}

/** The observations of a measurement the engine built (every list present). */
function observationsOf(m: Measurement | undefined): ObservationsProps {
  const o = m?.observations;
  return {
    dnsQueries: (o?.dnsQueries ?? []) as ObservationsProps['dnsQueries'],
    tcpConnects: (o?.tcpConnects ?? []) as ObservationsProps['tcpConnects'],
    tlsHandshakes: (o?.tlsHandshakes ?? []) as ObservationsProps['tlsHandshakes'],
    httpRequests: (o?.httpRequests ?? []) as ObservationsProps['httpRequests'],
    networkEvents: (o?.networkEvents ?? []) as ObservationsProps['networkEvents'],
  };
}

async function measureAll(urls: string[], options: EngineOptions = engine()): Promise<Map<string, Measurement>> {
  const out = new Map<string, Measurement>();
  await measureTargets(urls.map((url) => ({ url, categoryCode: 'NEWS', testList: 'lab', testListVersion: 'v1' })), options, {
    onMeasurement: (m, traffic) => {
      expect(traffic.bytesSent).toBeGreaterThan(0);
      expect(traffic.bytesReceived).toBeGreaterThan(0);
      out.set(m.input, m);
    },
  });
  return out;
}

const url = (host: string): string => `https://${host}:${lab.port}/`;

describe('web_connectivity against a loopback lab and a control vantage', () => {
  let results: Map<string, Measurement>;
  beforeAll(async () => {
    results = await measureAll(['site.test', 'blocked.test', 'mitm.test', 'nx.test', 'gone.test', 'flaky.test'].map(url));
  });

  function get(host: string): Measurement {
    const m = results.get(url(host));
    if (m === undefined) throw new Error(`no measurement for ${host}`);
    return m;
  }

  it('an honest site is accessible, with every step observed in order', () => {
    const m = get('site.test');
    expect(measurementProblem(m)).toBeUndefined();
    expect(m.testName).toBe('web_connectivity');
    expect(m.probeId).toBe(probeId);
    expect(m.softwareName).toBe('steppe-probe');
    expect(m.domain).toBe('site.test');
    expect(m.categoryCode).toBe('NEWS');
    expect(m.testList).toBe('lab');
    expect(m.analysis?.verdict).toBe('accessible');
    expect(m.analysis?.anomaly).toBe(false);
    const o = observationsOf(m);
    expect(o.dnsQueries.map((q) => q.queryType).sort()).toEqual(['A', 'AAAA']);
    expect(o.tcpConnects.map((c) => [c.ip, c.port, c.failure])).toEqual([['127.0.0.1', lab.port, '']]);
    expect(o.tlsHandshakes.map((h) => [h.serverName, h.controlSni, h.failure, h.verificationError])).toEqual([
      ['example.org', true, '', 'ssl_invalid_hostname'],
      ['site.test', false, '', ''],
    ]);
    expect(o.httpRequests).toHaveLength(1);
    const http = o.httpRequests[0];
    expect(http?.statusCode).toBe(200);
    expect(http?.title).toBe('site.test home page');
    expect((http?.throughput ?? []).length).toBeGreaterThanOrEqual(2);
    // Steps in order: DNS, then TCP, then TLS, then HTTP; every t0 <= t1.
    const dnsEnd = Math.max(...(o.dnsQueries ?? []).map((q) => q.t1Ms));
    const tcp = o.tcpConnects[0];
    expect(tcp?.t0Ms ?? -1).toBeGreaterThanOrEqual(dnsEnd);
    const tlsStart = Math.min(...(o.tlsHandshakes ?? []).map((h) => h.t0Ms));
    expect(tlsStart).toBeGreaterThanOrEqual(tcp?.t1Ms ?? Infinity);
    const tlsEnd = Math.max(...(o.tlsHandshakes ?? []).map((h) => h.t1Ms));
    expect(http?.t0Ms ?? -1).toBeGreaterThanOrEqual(tlsEnd);
    for (const e of [...(o.dnsQueries ?? []), ...(o.tcpConnects ?? []), ...(o.tlsHandshakes ?? []), ...(o.httpRequests ?? [])]) {
      expect(e.t1Ms).toBeGreaterThanOrEqual(e.t0Ms);
    }
    expect(m.runtimeMs).toBeGreaterThanOrEqual(http?.t1Ms ?? Infinity);
    // The control answered for the same URL with our addresses.
    expect(m.control?.failure).toBe('');
    expect(m.control?.http?.statusCode).toBe(200);
    expect(control.requests.some((r) => r.url === url('site.test') && r.addresses.includes('127.0.0.1'))).toBe(true);
  });

  it('never writes the probe\'s source address into a measurement', () => {
    for (const m of results.values()) {
      const text = JSON.stringify(measurementToJson(m));
      expect(text).not.toContain(PROBE_ADDRESS);
    }
  });

  it('a reset after the ClientHello with the target SNI, control SNI fine, is tls with connection_reset', () => {
    const m = get('blocked.test');
    expect(m.analysis?.verdict).toBe('tls');
    expect(m.analysis?.anomaly).toBe(true);
    expect(m.analysis?.failure).toBe('connection_reset');
    const target = observationsOf(m).tlsHandshakes.filter((h) => !h.controlSni) ?? [];
    expect(target.map((h) => [h.attempt, h.failure])).toEqual([[0, 'connection_reset'], [1, 'connection_reset']]);
    expect(observationsOf(m).tlsHandshakes.find((h) => h.controlSni)?.failure).toBe('');
  });

  it('a re-signed chain from a known interception root is interception, confirmed, with the issuer', () => {
    const m = get('mitm.test');
    expect(m.analysis?.verdict).toBe('interception');
    expect(m.analysis?.confirmed).toBe(true);
    expect(m.analysis?.interceptionIssuerCn).toBe('Lab State Root');
    const h = observationsOf(m).tlsHandshakes.find((t) => !t.controlSni);
    expect(h?.failure).toBe('');
    expect(h?.verificationError).toBe('ssl_unknown_authority');
    expect(h?.peerCertificates.length).toBeGreaterThan(0);
  });

  it('NXDOMAIN for the probe while the control resolves is dns', () => {
    const m = get('nx.test');
    expect(m.analysis?.verdict).toBe('dns');
    expect(m.analysis?.failure).toBe('dns_nxdomain_error');
    expect(observationsOf(m).dnsQueries.filter((q) => q.queryType === 'A').map((q) => q.attempt)).toEqual([0, 1]);
    expect(observationsOf(m).tcpConnects).toEqual([]);
    expect(observationsOf(m).httpRequests).toEqual([]);
  });

  it('a site that fails for the control too is down, not an anomaly', () => {
    const m = get('gone.test');
    expect(observationsOf(m).tcpConnects.map((c) => c.failure)).toEqual(['connection_refused', 'connection_refused']);
    expect(m.analysis?.verdict).toBe('down');
    expect(m.analysis?.anomaly).toBe(false);
  });

  it('a failure that disappears on the retry is not an anomaly; both attempts are recorded', () => {
    const m = get('flaky.test');
    const target = observationsOf(m).tlsHandshakes.filter((h) => !h.controlSni) ?? [];
    expect(target.map((h) => [h.attempt, h.failure])).toEqual([[0, 'connection_reset'], [1, '']]);
    expect(m.analysis?.anomaly).toBe(false);
    expect(m.analysis?.verdict).toBe('accessible');
  });

  it('measurements survive the wire encoding', () => {
    for (const m of results.values()) {
      const decoded = decodeMeasurement(encodeMeasurement(m));
      expect(decoded.ok).toBe(true);
    }
  });
});

describe('measureTargets', () => {
  it('refuses an invalid target before measuring anything', async () => {
    let called = 0;
    await expect(measureTargets([{ url: url('site.test') }, { url: 'ftp://x.test/' }], engine(), { onMeasurement: () => void (called += 1) })).rejects.toThrow(InvalidArgumentError);
    expect(called).toBe(0);
  });

  it('without a control, still measures every step and attaches no control', async () => {
    const results = await measureAll([url('site.test')], engine({ controlUrl: undefined }));
    const m = results.get(url('site.test'));
    expect(m?.control).toBeNull();
    expect(observationsOf(m).httpRequests[0]?.statusCode).toBe(200);
  });

  it('an address outside --allow-net is never connected to: blocked_by_policy, no packet sent', async () => {
    const before = [...lab.handshakes.values()].reduce((a, b) => a + b, 0);
    const strict = engine({ allowNet: parseCidrList('127.0.0.9/32'), controlUrl: undefined });
    const seen: Measurement[] = [];
    const traffic: number[] = [];
    await measureTargets([{ url: url('site.test') }, { url: `https://127.0.0.1:${lab.port}/` }], strict, {
      onMeasurement: (m, t) => {
        seen.push(m);
        traffic.push(t.bytesSent + t.bytesReceived);
      },
    });
    const byName = seen.find((m) => m.domain === 'site.test');
    expect(observationsOf(byName).dnsQueries.map((q) => q.failure)).toEqual(['blocked_by_policy', 'blocked_by_policy']);
    const byIp = seen.find((m) => m.domain === '127.0.0.1');
    expect(observationsOf(byIp).dnsQueries).toEqual([]);
    expect(observationsOf(byIp).tcpConnects.map((c) => c.failure)).toEqual(['blocked_by_policy']);
    expect(observationsOf(byIp).httpRequests.map((h) => h.failure)).toEqual(['blocked_by_policy']);
    expect(traffic).toEqual([0, 0]);
    expect([...lab.handshakes.values()].reduce((a, b) => a + b, 0)).toBe(before);
  });

  it('bounds a target by its budget: a swallowed handshake ends as timeouts, and the measurement is still made', async () => {
    const results = await measureAll([url('stall.test')], engine({ perTargetTimeoutMs: 2500 }));
    const m = results.get(url('stall.test'));
    const o = observationsOf(m);
    expect(o.tlsHandshakes.filter((h) => !h.controlSni).map((h) => h.failure)).toContain('generic_timeout_error');
    expect(o.tlsHandshakes.find((h) => h.controlSni)?.failure).toBe('');
    expect(m?.analysis?.verdict).toBe('tls');
    expect(m?.analysis?.failure).toBe('generic_timeout_error');
  });

  it('takes the start time from the clock and honours the concurrency bound', async () => {
    const clock = new ManualClock(1_800_000_000_000);
    const seen: number[] = [];
    await measureTargets(
      ['site.test', 'flaky.test', 'gone.test'].map((h) => ({ url: url(h) })),
      engine({ clock, concurrency: 1, controlUrl: undefined }),
      { onMeasurement: (m) => void seen.push(m.startTimeMs) },
    );
    expect(seen).toEqual([1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_000]);
  });

  it('stops starting targets when the signal aborts', async () => {
    const controller = new AbortController();
    let count = 0;
    await measureTargets(
      Array.from({ length: 5 }, () => ({ url: url('site.test') })),
      engine({ concurrency: 1, controlUrl: undefined }),
      {
        signal: controller.signal,
        onMeasurement: () => {
          count += 1;
          controller.abort();
        },
      },
    );
    expect(count).toBe(1);
  });
});
