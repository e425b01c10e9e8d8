import { defaultVerdictReference, parseCidrList, verdictFor } from '@steppe/shared';
import type { steppe } from '@steppe/proto';
import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { parseArgs } from 'node:util';
import { realisticMeasurement, seededRandom } from '../../test/uplink/fixtures/realistic-measurements.js';

// bench/probe-run/verdict-cost.ts: what the verdict engine costs per
// measurement, on realistic web_connectivity observations (real KZ test-list
// URLs, KZ interception chains, Russian-language pages and blockpages, from
// test/uplink/fixtures): loading the bundled reference data once (OONI's
// fingerprints, the interception roots), then `verdictFor` per measurement.
// The fixture's chains reuse a few certificates, as a run reuses CA and CDN
// intermediates; a "new leaf" pass gives each measurement a certificate
// never seen before (Node's bundled Mozilla roots as leaves), as every new
// site does.
// Usage (after the bench build, see RESULTS.md):
//   node bench/dist/bench/probe-run/verdict-cost.js [--measurements 2000]
const { values } = parseArgs({ options: { measurements: { type: 'string', default: '2000' } } });
const count = Number(values.measurements);

const t0 = performance.now();
const reference = defaultVerdictReference();
const loadMs = performance.now() - t0;

// The fixture's addresses are in 198.18.0.0/15 (the lab's "Internet"), and
// the control saw the same address, so DNS is consistent and every response
// reaches the HTTP rules (blockpage fingerprints, body and title comparison).
const options = { labAddresses: parseCidrList('198.18.0.0/15') };
const rand = seededRandom(42);
const inputs = Array.from({ length: count }, (_, i) => {
  const m = realisticMeasurement('bench-probe', 1_607_212_800_000 + i * 1000, rand);
  const ip = m.observations?.dnsQueries?.[0]?.responses?.[0]?.answers?.[0]?.value ?? '';
  const control = m.control as steppe.v1.ControlMeasurement.$Properties;
  return {
    measurement: { input: m.input ?? '', domain: m.domain ?? '', observations: m.observations ?? {}, control: { ...control, dns: { addresses: [{ ip, asn: 0, asOrg: '' }], failure: '' }, tcp: [{ ip, port: 443, failure: '' }] } },
    reference,
    options,
  };
});
// Each with a leaf certificate not seen before.
const newLeaves = rootCertificates.map((pem, i) => {
  const base = inputs[i % inputs.length];
  if (base === undefined) throw new Error('no measurements');
  const observations = base.measurement.observations;
  const tls = (observations.tlsHandshakes ?? []).map((t) => ({ ...t, peerCertificates: [new Uint8Array(new X509Certificate(pem).raw), ...(t.peerCertificates ?? []).slice(1)] }));
  return { ...base, measurement: { ...base.measurement, observations: { ...observations, tlsHandshakes: tls } } };
});
const verdicts = new Map<string, number>();
const run = (): number => {
  const t = performance.now();
  for (const input of inputs) {
    const v = verdictFor(input).verdict;
    verdicts.set(v, (verdicts.get(v) ?? 0) + 1);
  }
  return performance.now() - t;
};
const firstMs = run();
verdicts.clear();
const steadyMs = run();
const t1 = performance.now();
for (const input of newLeaves) verdictFor(input);
const newLeafMs = performance.now() - t1;
process.stdout.write(`${JSON.stringify({
  measurements: count,
  reference_load_ms: Math.round(loadMs),
  first_pass_us_per_measurement: Math.round((firstMs * 1000) / count),
  steady_us_per_measurement: Math.round((steadyMs * 1000) / count),
  new_leaf_measurements: newLeaves.length,
  new_leaf_us_per_measurement: Math.round((newLeafMs * 1000) / newLeaves.length),
  verdicts: Object.fromEntries([...verdicts].sort()),
}, null, 2)}\n`);
