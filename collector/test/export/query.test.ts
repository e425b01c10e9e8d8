import { describe, expect, it } from 'vitest';
import { parseExportQuery, queryFromCanonical } from '../../src/export/query.js';

const q = (text: string, extra: string[] = []) => parseExportQuery(new URLSearchParams(text), { extra });

describe('parseExportQuery', () => {
  it('reads every filter of GET /api/v1/measurements into a store filter and a canonical query', () => {
    const { filter, canonical } = q('since=2020-12-06&until=2020-12-07T00:00:00Z&probe_asn=AS9198,21299&probe_cc=kz&domain=WWW.Facebook.com&domain=www.instagram.com'
      + '&input=https://www.youtube.com/watch?v=a,b&category_code=grp&test_name=web_connectivity&verdict=tls,interception&anomaly=true&confirmed=false&source=steppe');
    expect(filter).toEqual({
      since: Date.UTC(2020, 11, 6),
      until: Date.UTC(2020, 11, 7),
      probeAsns: [9198, 21299],
      probeCcs: ['KZ'],
      domains: ['www.facebook.com', 'www.instagram.com'],
      inputs: ['https://www.youtube.com/watch?v=a,b'],
      categoryCodes: ['GRP'],
      testNames: ['web_connectivity'],
      verdicts: ['tls', 'interception'],
      anomaly: true,
      confirmed: false,
      sources: ['steppe'],
    });
    expect(canonical).toMatchObject({ since: '2020-12-06T00:00:00.000Z', probe_asn: ['AS9198', 'AS21299'], probe_cc: ['KZ'] });
    expect(queryFromCanonical(canonical).filter).toEqual(filter);
  });

  it('names the bad parameter and the expected form', () => {
    expect(() => q('since=yesterday')).toThrow(/parameter "since": expected an ISO 8601 date/);
    expect(() => q('failure=connection_rst')).toThrow(/parameter "failure": expected true, false, or failure strings/);
    expect(() => q('probe_asn=Kazakhtelecom')).toThrow(/parameter "probe_asn": expected an AS number/);
    expect(() => q('verdict=censored')).toThrow(/parameter "verdict": expected one of accessible, down/);
    expect(() => q('anomaly=yes')).toThrow(/parameter "anomaly": expected true or false/);
    expect(() => q('since=2020-12-07&until=2020-12-06')).toThrow(/parameter "until": expected a time after since/);
    expect(() => q('since=2020-12-06&since=2020-12-07')).toThrow(/parameter "since": expected a single value/);
  });

  it('reads times without an offset as UTC and failure filters, as GET /api/v1/measurements does', () => {
    expect(q('since=2020-12-06T10:00:00').filter.since).toBe(Date.UTC(2020, 11, 6, 10));
    expect(q('since=2020-12-06T16:00:00%2B06:00').filter.since).toBe(Date.UTC(2020, 11, 6, 10));
    expect(q('failure=true&anomaly=1').filter).toEqual({ failed: true, anomaly: true });
    expect(q('failure=connection_reset,generic_timeout_error').filter).toEqual({ failures: ['connection_reset', 'generic_timeout_error'] });
  });

  it('refuses unknown parameters (a typo must not widen a dataset) unless the caller handles them', () => {
    expect(() => q('probe_ans=AS9198')).toThrow(/parameter "probe_ans" is not a known filter/);
    expect(q('gzip=true', ['gzip']).filter).toEqual({});
  });

  it('names options the CLI way', () => {
    expect(() => parseExportQuery(new URLSearchParams('probe_asn=x'), { naming: 'option' })).toThrow(/^option --probe-asn: expected/);
  });
});
