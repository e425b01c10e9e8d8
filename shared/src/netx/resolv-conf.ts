import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';
import type { ResolverAddress } from './dns.js';

/** Where the system's resolver is configured (resolv.conf(5)). */
export const RESOLV_CONF = '/etc/resolv.conf';

/** The first `nameserver` of resolv.conf-formatted text, port 53; undefined when there is none. */
export function parseResolvConf(text: string): ResolverAddress | undefined {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    const host = m?.[1]?.split('%')[0];
    if (host !== undefined && isIP(host) !== 0) return { host, port: 53 };
  }
  return undefined;
}

/**
 * The system resolver: the first nameserver of /etc/resolv.conf, port 53.
 * The probe asks it directly with its own DNS packets (never through the
 * system's stub), so every response is observed. Throws a ConfigError naming
 * the file when none is configured.
 */
export function systemResolver(path: string = RESOLV_CONF): ResolverAddress {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError('resolver', `cannot read ${path} to find the system resolver; pass --resolver IP:PORT`, { cause });
  }
  const resolver = parseResolvConf(text);
  if (resolver === undefined) throw new ConfigError('resolver', `no nameserver in ${path}; pass --resolver IP:PORT`);
  return resolver;
}
