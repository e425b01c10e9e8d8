import { isIP } from 'node:net';
import { type ControlRequest, ConfigError, check, wire } from '@steppe/shared';
import { HttpError } from '../http/router.js';

/** Most addresses a caller may send (a resolver rarely returns more than a handful). */
export const MAX_PROBE_ADDRESSES = 16;
/** Longest URL accepted. */
export const MAX_URL_LENGTH = 2048;

const schema = check.object({
  url: check.url({ protocols: ['http:', 'https:'] }),
  addresses: check.optional(check.list(check.ip(), { max: MAX_PROBE_ADDRESSES }), []),
});

/**
 * Validate a parsed JSON body of `POST /api/v1/control`, a ControlRequest
 * (steppe.proto) in its JSON form: `{"url": "https://www.facebook.com/",
 * "addresses": ["31.13.72.36", ...]}`, `addresses` optional. Throws a 400
 * HttpError whose message names the bad field (`url`, `addresses[2]`, an
 * unknown key...). The addresses come back unique, in the caller's order.
 */
export function parseControlRequest(body: unknown): ControlRequest {
  let parsed: { url: string; addresses: string[] };
  try {
    parsed = schema(body, '');
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', err.field === '' ? 'request body: expected a JSON object {"url": ..., "addresses": [...]}' : err.message, { cause: err });
    }
    throw err;
  }
  if (parsed.url.length > MAX_URL_LENGTH) {
    throw new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', `field "url": expected at most ${MAX_URL_LENGTH} characters, got ${parsed.url.length}`);
  }
  const url = new URL(parsed.url);
  if (url.hostname === '') throw new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', 'field "url": expected a URL with a host name');
  if (url.username !== '' || url.password !== '') {
    throw new HttpError(400, 'STEPPE_ERR_INVALID_ARGUMENT', 'field "url": credentials in the URL are not accepted');
  }
  const addresses = [...new Set(parsed.addresses.map(canonicalIp))];
  return wire.ControlRequest.create({ url: url.href, addresses });
}

// One spelling per address, so "::FFFF:1.2.3.4"-style variants share a cache entry.
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}
