import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_ADDRESS_HEADER, decodeMeasurement, EgressGuard, parseCidrList, SCRUBBED } from '@steppe/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BandwidthBudget } from '../../src/budget/bandwidth-budget.js';
import { measureConnectivity } from '../../src/connectivity/connectivity-test.js';
import { executeRun } from '../../src/daemon/probe-run.js';
import { measureTargets } from '../../src/experiments/measure-targets.js';
import { Outbox } from '../../src/outbox/outbox.js';
import { PublicAddressSet } from '../../src/privacy/public-address.js';
import type { TestListCatalog } from '../../src/testlists/store.js';

// The probe binds every socket to 127.0.2.1: that is "the volunteer's
// address" here. The web server echoes the address it sees in headers and in
// the page, as "what is my IP" pages and some middleboxes do; the control
// echoes it in x-steppe-client-address, as the collector does. Nothing the
// probe stores may contain it.
const ME = '127.0.2.1';

describe('the volunteer address never reaches the outbox (real engine, loopback servers)', () => {
  let dir: string;
  let web: Server;
  let control: Server;
  let webUrl: string;
  let controlUrl: string;
  let controlCalls = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'steppe-scrub-'));
    web = createServer((req, res) => {
      const seen = req.socket.remoteAddress ?? '';
      const body = `<html><head><title>Your address: ${seen}</title></head><body>Hello ${seen}, ${seen.split('.').join('-')}</body></html>`;
      res.writeHead(200, { 'content-type': 'text/html', server: `echo/1 (${seen})`, via: `1.1 ${seen}` });
      res.end(body);
    });
    control = createServer((req, res) => {
      const seen = req.socket.remoteAddress ?? '';
      if (req.method !== 'POST') {
        // The connectivity check's GET: reachable, but no echo, so the
        // address must be learned from the engine's control calls.
        res.writeHead(405, { allow: 'POST' });
        res.end();
        return;
      }
      controlCalls += 1;
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', [CLIENT_ADDRESS_HEADER]: seen });
        res.end(JSON.stringify({ measuredAtMs: Date.now(), dns: { addresses: [] }, tcp: [], tls: [], http: { statusCode: 200, bodyLength: 120, title: 'Your address: 198.51.100.1' } }));
      });
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
    webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
    controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => web.close(() => resolve()));
    await new Promise<void>((resolve) => control.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('echoed in headers, title and body: scrubbed in the stored measurement', async () => {
    const allowNet = parseCidrList('127.0.0.0/8');
    const guard = new EgressGuard(allowNet);
    const outbox = Outbox.open(join(dir, 'outbox.sqlite'));
    const budget = BandwidthBudget.open(dir, { limitBytes: null });
    const addresses = new PublicAddressSet();
    const catalog: TestListCatalog = {
      version: 'test-1',
      lists: new Map([['core', { name: 'core', version: 'test-1', origin: 'built-in', problems: [], entries: [{ url: webUrl, categoryCode: 'NEWS', categoryDescription: '', dateAdded: '', source: 'test', notes: '', line: 2 }] }]]),
      problems: [],
    };
    try {
      const run = await executeRun(
        'core',
        'manual',
        {
          measureTargets,
          engineOptions: {
            probeId: 'probe-under-test',
            resolver: { host: '127.0.0.1', port: 9 },
            controlUrl,
            allowNet,
            localAddress: ME,
            labAddresses: allowNet,
            controlSni: 'example.org',
            perTargetTimeoutMs: 5000,
            maxBodyBytes: 65536,
            concurrency: 1,
          },
          sink: outbox,
          budget,
          addresses,
          catalog: () => catalog,
          fullLists: [],
          filter: { categories: [], excludeCategories: [] },
          checkConnectivity: async (signal) => [
            await measureConnectivity({ baseUrl: controlUrl, role: 'control', probeId: 'probe-under-test', resolver: { host: '127.0.0.1', port: 9 }, guard, localAddress: ME, timeoutMs: 3000, signal }),
          ],
        },
        new AbortController().signal,
      );
      expect(run.outcome).toBe('completed');
      expect(run.measured).toBe(2);
      expect(run.connectivity).toEqual([{ url: controlUrl, role: 'control', reachable: true, failure: '' }]);
      expect(controlCalls).toBeGreaterThan(0);
      expect(run.bytesMoved).toBeGreaterThan(0);

      const rows = outbox.next(10, 10 * 2 ** 20);
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const raw = Buffer.from(row.bytes);
        expect(raw.includes(ME)).toBe(false);
        expect(raw.includes('127-0-2-1')).toBe(false);
      }
      const decoded = rows.map((r) => decodeMeasurement(r.bytes));
      const web = decoded.map((d) => (d.ok ? d.value : undefined)).find((m) => m?.testName === 'web_connectivity');
      const http = web?.observations?.httpRequests?.[0];
      expect(http?.statusCode).toBe(200);
      expect(http?.title).toBe(`Your address: ${SCRUBBED}`);
      expect(http?.responseHeaders?.find((h) => h.name === 'via')?.value).toBe(`1.1 ${SCRUBBED}`);
      expect(Buffer.from(http?.bodyPrefix ?? []).toString()).toContain(`Hello ${SCRUBBED}, ${SCRUBBED}</body>`);
      // The server's own address is evidence and stays.
      expect(web?.observations?.tcpConnects?.[0]?.ip).toBe('127.0.0.1');
    } finally {
      outbox.close();
    }
  });
});
