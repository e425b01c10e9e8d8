import type { DnsQueryOptions, DnsResponse, TcpResult } from '../clients.js';

/** One operation for the in-namespace client (client.ts). */
export type ClientRequest =
  | ({ readonly op: 'dns' } & DnsQueryOptions)
  | { readonly op: 'tcp'; readonly host: string; readonly port: number; readonly localAddress?: string; readonly send?: string; readonly timeoutMs?: number; readonly holdMs?: number }
  | { readonly op: 'tls'; readonly host: string; readonly port: number; readonly servername?: string; readonly localAddress?: string; readonly caFiles?: readonly string[]; readonly timeoutMs?: number }
  | { readonly op: 'http'; readonly url: string; readonly address: string; readonly localAddress?: string; readonly caFiles?: readonly string[]; readonly timeoutMs?: number };

/** A certificate as the client reports it. */
export interface ClientCertificate {
  readonly subject: string;
  readonly issuer: string;
  readonly fingerprint256: string;
  readonly pem: string;
}

/** What the in-namespace client prints. */
export type ClientResponse =
  | { readonly op: 'dns'; readonly responses: readonly DnsResponse[] }
  | ({ readonly op: 'tcp' } & TcpResult)
  | {
      readonly op: 'tls';
      readonly ok: boolean;
      readonly error: string | undefined;
      readonly authorized: boolean;
      readonly authorizationError: string | undefined;
      readonly chain: readonly ClientCertificate[];
    }
  | {
      readonly op: 'http';
      readonly status: number | undefined;
      readonly error: string | undefined;
      readonly bodyBytes: number;
      readonly bodyMs: number;
      /** The first 4 KiB of the body. */
      readonly body: string;
    }
  | { readonly op: 'error'; readonly error: string };
