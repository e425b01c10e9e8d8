import { isIP } from 'node:net';

/** "IP:PORT" or "[IPv6]:PORT" split into its parts; undefined when malformed. */
export function parseEndpoint(text: string): { ip: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  const ip = m?.[1];
  const port = Number(m?.[2]);
  if (ip === undefined || isIP(ip) === 0 || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { ip, port };
}

/** "IP:PORT", with IPv6 addresses in brackets (OONI's key form for the control's maps). */
export function endpointKey(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
