import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Router, sendJson } from './router.js';

/** A listening HTTP server. */
export interface Listening {
  readonly server: Server;
  /** Base URL, e.g. http://127.0.0.1:8080 (IPv6 hosts in brackets). */
  readonly url: string;
  /** Stop accepting, drop idle keep-alive connections, resolve when closed. */
  close(): Promise<void>;
}

/**
 * Serve `router` on host:port (port 0: any free port). Unmatched paths get a
 * coded 404; a handler that throws past the router gets a coded 500.
 */
export async function listenRouter(router: Router, host: string, port: number): Promise<Listening> {
  const server = createServer((req, res) => {
    router.handle(req, res).then(
      (handled) => {
        if (!handled) {
          const path = new URL(req.url ?? '/', 'http://collector.invalid').pathname;
          sendJson(res, 404, { error: { code: 'STEPPE_ERR_NOT_FOUND', message: `no route for ${req.method ?? ''} ${path}` } });
        }
      },
      () => sendJson(res, 500, { error: { code: 'STEPPE_ERR_INTERNAL', message: 'internal error' } }),
    );
  });
  // Slow-loris guard: a request must send its headers within 30 s.
  server.headersTimeout = 30_000;
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
