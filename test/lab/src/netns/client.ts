#!/usr/bin/env node
/**
 * Entry point: network operations from inside a namespace, for testing the
 * namespace tier (the probe namespace has no other tool). Usage:
 *
 *   node test/lab/dist/netns/client.js '<ClientRequest JSON>'   one request, one ClientResponse line
 *   node test/lab/dist/netns/client.js                          agent: {"id","request"} lines on stdin,
 *                                                               {"id","response"} lines on stdout
 *
 * Every target must be a lab address (checked by the clients before a
 * socket opens).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { httpGet, queryDns, tcpConnect, tlsHandshake } from '../clients.js';
import type { ClientRequest, ClientResponse } from './client-protocol.js';

async function run(request: ClientRequest): Promise<ClientResponse> {
  const ca = request.op === 'tls' || request.op === 'http' ? request.caFiles?.map((f) => readFileSync(f, 'utf8')) : undefined;
  switch (request.op) {
    case 'dns':
      return { op: 'dns', responses: await queryDns(request) };
    case 'tcp':
      return { op: 'tcp', ...(await tcpConnect(request)) };
    case 'tls': {
      const result = await tlsHandshake({ ...request, ...(ca === undefined ? {} : { ca }) });
      return {
        op: 'tls', ok: result.ok, error: result.error, authorized: result.authorized, authorizationError: result.authorizationError,
        chain: result.chain.map((c) => ({ subject: c.subject, issuer: c.issuer, fingerprint256: c.fingerprint256, pem: c.toString() })),
      };
    }
    case 'http': {
      const result = await httpGet(request.url, { ...request, ...(ca === undefined ? {} : { ca }) });
      return { op: 'http', status: result.status, error: result.error, bodyBytes: result.body.length, bodyMs: result.bodyMs, body: result.body.subarray(0, 4096).toString('utf8') };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify((request as { op?: unknown }).op)}`);
  }
}

function answerLine(line: string): Promise<string> {
  let id: unknown = null;
  return (async () => {
    const message = JSON.parse(line) as { id?: unknown; request?: ClientRequest };
    id = message.id ?? null;
    if (message.request === undefined) throw new Error('no request');
    return JSON.stringify({ id, response: await run(message.request) });
  })().catch((err: unknown) => JSON.stringify({ id, response: { op: 'error', error: err instanceof Error ? err.message : String(err) } }));
}

if (process.argv[2] !== undefined) {
  // One-shot: the request is the argument.
  try {
    const response = await run(JSON.parse(process.argv[2]) as ClientRequest);
    process.stdout.write(`${JSON.stringify(response)}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ op: 'error', error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exitCode = 1;
  }
} else {
  // Agent: one {"id","request"} JSON line in, one {"id","response"} line out, until stdin closes.
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    void answerLine(line).then((answer) => process.stdout.write(`${answer}\n`));
  });
}
