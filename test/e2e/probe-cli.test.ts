import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeasurementJson } from '@steppe/shared';
import { type ProbeLab, startProbeLab, verdictOf } from './helpers/probe-lab.js';

// The CLI contract end to end: `steppe-probe measure URL... --allow-net
// 127.0.0.0/8 --local-address 127.0.2.x --resolver <lab> --control <collector>
// --ca-file <lab root> --interception-roots <state root> --lab-addresses
// 127.0.0.0/8` prints one JSON object per URL and exits 0, whatever the verdicts.

let rig: ProbeLab;

beforeAll(async () => {
  rig = await startProbeLab();
});

afterAll(async () => {
  await rig?.close();
});

function lines(stdout: string): MeasurementJson[] {
  return stdout.trim().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as MeasurementJson);
}

describe('e2e: steppe-probe measure (CLI)', () => {
  it('measures several censored and honest URLs in one run, one JSON line each', async () => {
    const censor = rig.lab.censor;
    const rules = [
      censor.apply({ domains: 'www.instagram.com', networks: 'in-country', behaviour: { kind: 'sni-reset' } }),
      censor.apply({ domains: 'www.facebook.com', networks: 'in-country', behaviour: { kind: 'tls-intercept' } }),
      censor.apply({ domains: 'youtube.com', networks: 'in-country', behaviour: { kind: 'http-blockpage' } }),
      censor.apply({ domains: 'instagram.com', networks: 'in-country', behaviour: { kind: 'dns-nxdomain' } }),
    ];
    const urls = {
      honest: rig.url('vlast.kz'),
      sni: rig.url('www.instagram.com'),
      mitm: rig.url('www.facebook.com'),
      blockpage: rig.url('youtube.com', 'http'),
      nxdomain: rig.url('instagram.com'),
    };
    try {
      const run = await rig.cli(['measure', ...Object.values(urls), ...rig.cliArgs('beeline'), '--concurrency', '3', '--timeout-ms', '10000']);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const byInput = new Map(lines(run.stdout).map((m) => [m['input'], m]));
      expect(byInput.size).toBe(5);
      const verdict = (url: string) => {
        const m = byInput.get(url);
        if (m === undefined) throw new Error(`no line for ${url}`);
        return verdictOf(m);
      };
      expect(verdict(urls.honest)).toEqual({ verdict: 'accessible', blockingType: '', anomaly: false, confirmed: false, failure: null, failedStep: '' });
      expect(verdict(urls.sni)).toEqual({ verdict: 'tls', blockingType: 'sni_reset', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake' });
      expect(verdict(urls.mitm)).toEqual({ verdict: 'interception', blockingType: 'tls_mitm', anomaly: true, confirmed: true, failure: 'ssl_unknown_authority', failedStep: 'tls_handshake' });
      expect(verdict(urls.blockpage)).toEqual({ verdict: 'blockpage', blockingType: 'http_blockpage', anomaly: true, confirmed: true, failure: null, failedStep: '' });
      expect(verdict(urls.nxdomain)).toEqual({ verdict: 'dns', blockingType: 'dns_nxdomain', anomaly: true, confirmed: false, failure: 'dns_nxdomain_error', failedStep: 'dns' });
    } finally {
      for (const id of rules) censor.lift(id);
    }
  });

  it('never connects outside --allow-net: the site sees nothing, the verdict is undetermined', async () => {
    const args = rig.cliArgs();
    const source = args[args.indexOf('--local-address') + 1] ?? '';
    // Allow the resolver's and the control's addresses only, not the sites' 127.10.0.0/16.
    args[args.indexOf('--allow-net') + 1] = '127.53.0.0/16,127.0.0.1/32';
    const run = await rig.cli(['measure', rig.url('www.youtube.com'), ...args, '--timeout-ms', '5000']);
    expect(run.code).toBe(0);
    const [m] = lines(run.stdout);
    expect(m === undefined ? undefined : verdictOf(m)).toMatchObject({ verdict: '', anomaly: false, failure: 'blocked_by_policy' });
    expect(rig.lab.log.count({ source, kind: 'dns-query' })).toBeGreaterThan(0);
    expect(rig.lab.log.count({ source, kind: 'connection' })).toBe(0);
  });

  it('exits 2 with a message naming the option on bad arguments', async () => {
    const run = await rig.cli(['measure', rig.url('vlast.kz'), '--allow-net', 'not-a-cidr']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--allow-net');
    expect(run.stdout).toBe('');
  });
});
