import type { IncomingMessage } from 'node:http';
import { type Cidr, inAnyCidr } from '@steppe/shared';
import { normalizeIp } from './network-lookup.js';

/**
 * The address a request really came from. `X-Forwarded-For` is believed only
 * when the direct peer is one of the configured reverse proxies
 * (`trustedProxies`); then the chain is read from the right, skipping further
 * trusted proxies, and the first untrusted hop is the client (a client can
 * prepend anything it likes, so the leftmost entry is never trusted blindly).
 *
 * The result is for deriving the network only; callers must not store or log it.
 * Returns undefined when no valid address can be determined.
 */
export function clientAddress(req: IncomingMessage, trustedProxies: readonly Cidr[]): string | undefined {
  const peer = normalizeIp(req.socket.remoteAddress ?? '');
  if (peer === undefined) return undefined;
  if (trustedProxies.length === 0 || !inAnyCidr(trustedProxies, peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const text = Array.isArray(header) ? header.join(',') : header;
  if (text === undefined || text.trim() === '') return peer;
  const hops = text.split(',').map((h) => h.trim()).filter((h) => h.length > 0);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = normalizeIp(stripPort(hops[i] ?? ''));
    if (hop === undefined) return undefined; // a garbled hop: we cannot tell who the client is
    if (!inAnyCidr(trustedProxies, hop)) return hop;
  }
  return normalizeIp(stripPort(hops[0] ?? '')) ?? peer;
}

// Some proxies append ":port" to IPv4 hops or bracket IPv6 ones.
function stripPort(hop: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracket?.[1] !== undefined) return bracket[1];
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  if (v4port?.[1] !== undefined) return v4port[1];
  return hop;
}
