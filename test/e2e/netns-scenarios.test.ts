import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MeasurementJson } from '@steppe/shared';
import { NAMESPACE_ADDRESSES, NAMESPACE_RANGE, type NamespaceLab, namespaceTierSupport, startNamespaceLab } from '../lab/src/netns/index.js';
import { LARGE_RESOURCE_PATH } from '../lab/src/index.js';
import { verdictOf } from './helpers/probe-lab.js';

// What only packets show, end to end: the unmodified probe CLI in the probe
// namespace (--allow-net 198.18.0.0/15 alone), the control CLI in the control
// namespace, the lab in the world, and a censor router between them whose
// iptables rules answer SYNs with RSTs, drop them, string-match the SNI, or
// police the rate. Needs root; skips loudly otherwise (CI runs as root).

const support = namespaceTierSupport();
if (!support.ok) console.warn(`\n*** SKIPPING the namespace-tier end-to-end scenarios: ${support.reason} ***\n`);

const COLLECTOR_BIN = fileURLToPath(new URL('../../collector/bin/steppe-collector.js', import.meta.url));
const CONTROL_PORT = 8080;

describe.runIf(support.ok)('e2e: namespace tier (root)', () => {
  let ns: NamespaceLab;
  let control: ChildProcessWithoutNullStreams | undefined;

  beforeAll(async () => {
    ns = await startNamespaceLab({ largeBytes: 192 * 1024 });
    const started = ns.start('control', COLLECTOR_BIN, [
      'control', '--port', String(CONTROL_PORT), '--host', NAMESPACE_ADDRESSES.control,
      '--resolver', ns.world.resolver.address, '--control-local-address', NAMESPACE_ADDRESSES.control,
      '--allow-net', NAMESPACE_RANGE, '--ca-file', ns.world.rootCaFile,
    ]);
    control = started;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the control did not start: ${out}`)), 30_000);
      started.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.stderr.on('data', (chunk: Buffer) => { out += chunk.toString(); });
      started.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`the control exited (${code}): ${out}`));
      });
    });
  });

  afterAll(async () => {
    control?.kill('SIGTERM');
    await ns?.close();
  });

  afterEach(async () => {
    await ns.packets.clear();
  });

  async function measure(url: string, timeoutMs = 10_000): Promise<MeasurementJson> {
    const run = await ns.runProbe([
      'measure', url, '--resolver', ns.world.resolver.address, '--control', `http://${NAMESPACE_ADDRESSES.control}:${CONTROL_PORT}`,
      '--ca-file', ns.world.rootCaFile, '--interception-roots', ns.world.stateRootFile, '--lab-addresses', NAMESPACE_RANGE,
      '--allow-net', NAMESPACE_RANGE, '--timeout-ms', String(timeoutMs),
    ], { timeoutMs: timeoutMs + 30_000 });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout.trim()) as MeasurementJson;
  }

  it('an honest site through the router is accessible', async () => {
    expect(verdictOf(await measure(ns.url('www.facebook.com')))).toEqual({
      verdict: 'accessible', blockingType: '', anomaly: false, confirmed: false, failure: null, failedStep: '',
    });
  });

  it('a SYN answered by RST is tcp_ip/tcp_refused (connection_refused)', async () => {
    await ns.packets.apply({ kind: 'syn-reset', address: ns.address('www.facebook.com'), port: 443 });
    expect(verdictOf(await measure(ns.url('www.facebook.com')))).toEqual({
      verdict: 'tcp_ip', blockingType: 'tcp_refused', anomaly: true, confirmed: false, failure: 'connection_refused', failedStep: 'tcp_connect',
    });
  });

  it('a SYN dropped is tcp_ip/tcp_timeout', async () => {
    await ns.packets.apply({ kind: 'syn-drop', address: ns.address('www.youtube.com'), port: 443 });
    expect(verdictOf(await measure(ns.url('www.youtube.com'), 5000))).toEqual({
      verdict: 'tcp_ip', blockingType: 'tcp_timeout', anomaly: true, confirmed: false, failure: 'generic_timeout_error', failedStep: 'tcp_connect',
    });
  });

  it('a router resetting on the SNI string is tls/sni_reset', async () => {
    await ns.packets.apply({ kind: 'sni-reset', sni: 'www.instagram.com' });
    expect(verdictOf(await measure(ns.url('www.instagram.com')))).toEqual({
      verdict: 'tls', blockingType: 'sni_reset', anomaly: true, confirmed: false, failure: 'connection_reset', failedStep: 'tls_handshake',
    });
  });

  it('a router policing the site to 50 kB/s is throttled', async () => {
    await ns.packets.apply({ kind: 'police', address: ns.address('vlast.kz'), bytesPerSecond: 50_000 });
    expect(verdictOf(await measure(ns.url('vlast.kz', 'http', LARGE_RESOURCE_PATH), 20_000))).toEqual({
      verdict: 'throttled', blockingType: 'throttling', anomaly: true, confirmed: false, failure: null, failedStep: '',
    });
  });
});
