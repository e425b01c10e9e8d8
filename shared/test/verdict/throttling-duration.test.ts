import { describe, expect, it } from 'vitest';
import { EMPTY_VERDICT_REFERENCE, verdictFor } from '../../src/index.js';

// An honest page of 40 KiB fetched in 11 ms by the probe (one event-loop pause)
// next to a control that took 1 ms: the ratio is under 10 %, yet nothing was
// throttled. The same ratio over a 2.6 s download is throttling.
function measurement(downloadMs: number) {
  const bytes = 40 * 1024;
  return {
    input: 'https://vlast.kz/',
    domain: 'vlast.kz',
    observations: {
      dnsQueries: [{ hostname: 'vlast.kz', queryType: 'A', responses: [{ rcode: 0, answers: [{ answerType: 'A', value: '31.13.72.36', ttl: 60 }] }] }],
      tcpConnects: [{ ip: '31.13.72.36', port: 443, t0Ms: 1, t1Ms: 2 }],
      tlsHandshakes: [{ serverName: 'vlast.kz', ip: '31.13.72.36', port: 443, t0Ms: 2, t1Ms: 5 }],
      httpRequests: [{
        url: 'https://vlast.kz/', method: 'GET', statusCode: 200, bodyLength: bytes, title: 'Vlast.kz', t0Ms: 5, t1Ms: 6 + downloadMs,
        throughput: [{ tMs: 6, bytes: 1024 }, { tMs: 6 + downloadMs, bytes }],
      }],
    },
    control: {
      dns: { addresses: [{ ip: '31.13.72.36', asn: 32934 }] },
      tcp: [{ ip: '31.13.72.36', port: 443 }],
      tls: [{ serverName: 'vlast.kz', ip: '31.13.72.36', port: 443, validForDomain: true }],
      http: { statusCode: 200, bodyLength: bytes, title: 'Vlast.kz', throughputBps: bytes * 1000 },
    },
  };
}

describe('throttling needs a download long enough to measure', () => {
  it('does not call a fast honest download throttled because of a pause', () => {
    const a = verdictFor({ measurement: measurement(11), reference: EMPTY_VERDICT_REFERENCE });
    expect(a.verdict).toBe('accessible');
    expect(a.anomaly).toBe(false);
    // Without the duration floor the same observations would be judged throttled.
    const floorless = verdictFor({ measurement: measurement(11), reference: EMPTY_VERDICT_REFERENCE, options: { throttlingMinDurationMs: 0 } });
    expect(floorless.verdict).toBe('throttled');
  });

  it('calls a download stretched to seconds at the same ratio throttled', () => {
    const a = verdictFor({ measurement: measurement(2_600), reference: EMPTY_VERDICT_REFERENCE });
    expect(a.verdict).toBe('throttled');
    expect(a.evidence.join(' ')).toMatch(/in 2600 ms/);
  });
});
