import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { SocksProxyAgent } from 'socks-proxy-agent';
import { UsageError } from '@steppe/shared';

/**
 * The agent that carries the uplink through a proxy, or undefined for a
 * direct connection. An explicit `--proxy` wins; otherwise `HTTPS_PROXY`
 * (for wss://) or `HTTP_PROXY` (for ws://) from the environment, unless the
 * collector's host is listed in `NO_PROXY`.
 *
 * `socks5://` is treated as `socks5h://`: the proxy (e.g. a local Tor)
 * resolves the collector's name, so no DNS query for it leaves this machine
 * where a censor could answer it.
 */
export function proxyAgentFor(target: string, proxy: string | undefined, env: NodeJS.ProcessEnv): Agent | undefined {
  const url = new URL(target);
  const chosen = proxy ?? envProxy(url, env);
  if (chosen === undefined || chosen === '') return undefined;
  let p: URL;
  try {
    p = new URL(chosen);
  } catch {
    throw new UsageError(`proxy ${JSON.stringify(chosen)} is not a URL (expected https://host:port, http://host:port or socks5://host:port)`);
  }
  switch (p.protocol) {
    case 'http:':
    case 'https:':
      return new HttpsProxyAgent(p);
    case 'socks5:':
    case 'socks5h:':
      p.protocol = 'socks5h:';
      return new SocksProxyAgent(p);
    case 'socks4:':
    case 'socks4a:':
      return new SocksProxyAgent(p);
    default:
      throw new UsageError(`proxy ${JSON.stringify(chosen)}: unsupported scheme ${p.protocol} (expected https://, http:// or socks5://)`);
  }
}

function envProxy(target: URL, env: NodeJS.ProcessEnv): string | undefined {
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const value = secure ? env['HTTPS_PROXY'] ?? env['https_proxy'] : env['HTTP_PROXY'] ?? env['http_proxy'];
  if (value === undefined || value.trim() === '') return undefined;
  if (bypassed(target.hostname, env['NO_PROXY'] ?? env['no_proxy'] ?? '')) return undefined;
  return value.trim();
}

/** NO_PROXY matching as curl does it: `*`, exact host, or a domain suffix. */
function bypassed(host: string, noProxy: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return noProxy.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e.length > 0).some((entry) => {
    if (entry === '*') return true;
    const bare = entry.replace(/^\./, '').replace(/:\d+$/, '');
    return h === bare || h.endsWith(`.${bare}`);
  });
}
