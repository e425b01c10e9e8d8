import { CLIENT_ADDRESS_HEADER, decodeMeasurement, encodeMeasurement, type MeasurementProps, newId, SCRUBBED, sha256 } from '@steppe/shared';
import { describe, expect, it } from 'vitest';
import { PublicAddressSet } from '../../src/privacy/public-address.js';
import { SCRUBBED_ANNOTATION, scrubMeasurement } from '../../src/privacy/scrub-measurement.js';

const ME = '203.0.113.77';
const SERVER = '198.51.100.10';

function measurement(): MeasurementProps {
  const body = Buffer.from(`<html><title>Your IP is ${ME}</title>seen from ${ME}</html>`);
  return {
    id: newId(Date.UTC(2020, 11, 6)),
    probeId: 'probe-1',
    testName: 'web_connectivity',
    testVersion: '0.1.0',
    startTimeMs: Date.UTC(2020, 11, 6),
    runtimeMs: 12,
    input: 'https://whatismyip.example/',
    domain: 'whatismyip.example',
    observations: {
      dnsQueries: [{ resolver: '127.0.0.53:53', hostname: 'whatismyip.example', queryType: 'A', responses: [{ rcode: 0, answers: [{ answerType: 'A', value: SERVER, ttl: 60 }] }] }],
      tcpConnects: [{ ip: SERVER, port: 443 }],
      tlsHandshakes: [{ serverName: 'whatismyip.example', ip: SERVER, port: 443, peerCertificates: [Buffer.from(`fake-der CN=${ME}`), Buffer.from('innocent-der')] }],
      httpRequests: [
        {
          url: 'https://whatismyip.example/',
          statusCode: 200,
          responseHeaders: [
            { name: 'server', value: 'echo' },
            { name: 'via', value: `1.1 proxy (for ${ME})` },
          ],
          bodyPrefix: body,
          bodySha256: sha256(body),
          title: `Your IP is ${ME}`,
          address: `${SERVER}:443`,
        },
      ],
      networkEvents: [{ kind: 'note', detail: `client ::ffff:${ME} seen` }],
    },
    control: { helper: 'http://127.0.0.1:8080', http: { title: `Control sees ${ME}?`, statusCode: 200 } },
    analysis: { verdict: 'accessible', evidence: [`body mentions ${ME}`], failure: '' },
    annotations: { platform: 'linux', note: `client ${ME}` },
  };
}

describe('scrubMeasurement', () => {
  const addresses = new PublicAddressSet();
  addresses.add(ME);

  it('replaces the address in every string and text field, keeps the servers', () => {
    const { measurement: m, scrubbedFields } = scrubMeasurement(measurement(), addresses.scrubForms());
    const bytes = Buffer.from(encodeMeasurement(m));
    expect(bytes.includes(ME)).toBe(false);
    expect(bytes.includes(Buffer.from([203, 0, 113, 77]))).toBe(false);
    const h = m.observations?.httpRequests?.[0];
    expect(h?.title).toBe(`Your IP is ${SCRUBBED}`);
    expect(h?.responseHeaders?.[1]?.value).toBe(`1.1 proxy (for ${SCRUBBED})`);
    expect(Buffer.from(h?.bodyPrefix ?? []).toString()).toBe(`<html><title>Your IP is ${SCRUBBED}</title>seen from ${SCRUBBED}</html>`);
    expect(h?.bodySha256?.length).toBe(0); // a digest of the original body could be reversed
    expect(h?.address).toBe(`${SERVER}:443`);
    expect(m.observations?.dnsQueries?.[0]?.responses?.[0]?.answers?.[0]?.value).toBe(SERVER);
    expect(m.observations?.networkEvents?.[0]?.detail).toBe(`client ${SCRUBBED} seen`);
    expect(m.control?.http?.title).toBe(`Control sees ${SCRUBBED}?`);
    expect(m.analysis?.evidence).toEqual([`body mentions ${SCRUBBED}`]);
    expect(m.annotations?.['note']).toBe(`client ${SCRUBBED}`);
    const certs = m.observations?.tlsHandshakes?.[0]?.peerCertificates ?? [];
    expect(certs[0]?.length).toBe(0); // withheld: a certificate cannot be edited
    expect(Buffer.from(certs[1] ?? []).toString()).toBe('innocent-der');
    expect(scrubbedFields).toContain('observations.httpRequests[0].title');
    expect(m.annotations?.[SCRUBBED_ANNOTATION]).toContain('observations.httpRequests[].bodyPrefix');
    expect(decodeMeasurement(bytes).ok).toBe(true);
  });

  it('leaves a measurement without the address byte-identical (apart from nothing) and does not touch the input', () => {
    const input = measurement();
    const other = new PublicAddressSet();
    other.add('192.0.2.1');
    const { measurement: m, scrubbedFields } = scrubMeasurement(input, other.scrubForms());
    expect(scrubbedFields).toEqual([]);
    expect(Buffer.from(encodeMeasurement(m)).equals(Buffer.from(encodeMeasurement(input)))).toBe(true);
    expect(input.observations?.httpRequests?.[0]?.title).toBe(`Your IP is ${ME}`);
  });

  it('with no address known yet, every address a server wrote in its response is scrubbed, except the servers measured', () => {
    const input = measurement();
    const header = input.observations?.httpRequests?.[0]?.responseHeaders;
    header?.push({ name: 'x-served-by', value: `edge ${SERVER}` });
    const { measurement: m, scrubbedFields } = scrubMeasurement(input, []);
    const h = m.observations?.httpRequests?.[0];
    expect(h?.title).toBe(`Your IP is ${SCRUBBED}`);
    expect(h?.responseHeaders?.[1]?.value).toBe(`1.1 proxy (for ${SCRUBBED})`);
    expect(h?.responseHeaders?.[2]?.value).toBe(`edge ${SERVER}`);
    expect(Buffer.from(h?.bodyPrefix ?? []).includes(ME)).toBe(false);
    expect(h?.bodySha256?.length).toBe(0);
    expect(m.observations?.tcpConnects?.[0]?.ip).toBe(SERVER);
    expect(scrubbedFields).toEqual(['observations.httpRequests[0].responseHeaders[1].value', 'observations.httpRequests[0].title', 'observations.httpRequests[0].bodyPrefix']);
    // A measurement without foreign addresses is left as it was.
    const plain: MeasurementProps = { ...measurement(), observations: { httpRequests: [{ url: 'https://a.example/', title: 'News', address: `${SERVER}:443` }] } };
    expect(scrubMeasurement(plain, []).scrubbedFields).toEqual([]);
  });
});

describe('PublicAddressSet', () => {
  it('learns from the control echo header, ignores junk', () => {
    const set = new PublicAddressSet();
    expect(set.learnFromHeaders({ [CLIENT_ADDRESS_HEADER]: ' 203.0.113.9 ' })).toBe(true);
    expect(set.learnFromHeaders({ [CLIENT_ADDRESS_HEADER]: '203.0.113.9' })).toBe(false);
    expect(set.learnFromHeaders({ [CLIENT_ADDRESS_HEADER]: 'evil; rm -rf' })).toBe(false);
    expect(set.learnFromHeaders({})).toBe(false);
    expect(set.size).toBe(1);
  });

  it('covers the textual forms an address takes (IPv4-mapped, IPv6 compressed or not, dashed)', () => {
    const set = new PublicAddressSet();
    set.add('::ffff:203.0.113.9');
    set.add('2001:DB8:0:0:0:0:0:1');
    const forms = set.scrubForms();
    expect(forms).toContain('203.0.113.9');
    expect(forms).toContain('::ffff:203.0.113.9');
    expect(forms).toContain('203-0-113-9');
    expect(forms).toContain('2001:db8::1');
    expect(forms).toContain('2001:0db8:0000:0000:0000:0000:0000:0001');
    expect(forms).toContain('2001:DB8::1');
    expect(forms[0]?.length).toBeGreaterThanOrEqual(forms.at(-1)?.length ?? 0);
  });

  it('takes only public interface addresses from the machine', () => {
    const set = new PublicAddressSet();
    set.learnFromInterfaces({
      lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }],
      eth0: [
        { address: '192.168.1.20', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '192.168.1.20/24' },
        { address: '8.8.4.4', netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal: false, cidr: '8.8.4.4/24' },
      ],
    });
    expect(set.scrubForms()).toContain('8.8.4.4');
    expect(set.scrubForms().some((f) => f.includes('192.168'))).toBe(false);
  });
});
