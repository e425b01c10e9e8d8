import { isIP } from 'node:net';
import { InvalidArgumentError, cidrContains, formatIp, ipToBytes, parseCidr } from '@steppe/shared';

/**
 * Where the lab may live. Rule 1 of the common brief: tests only ever talk to
 * loopback or to 198.18.0.0/15 inside namespaces the test created (RFC 2544
 * benchmarking range). Every address the lab binds to or puts in a DNS answer
 * is checked against these two ranges.
 */
export const LAB_RANGES = {
  loopback: parseCidr('127.0.0.0/8'),
  benchmarking: parseCidr('198.18.0.0/15'),
} as const;

/**
 * The bogon the loopback tier injects. The probe runs there with
 * `--lab-addresses 127.0.0.0/8` (loopback counts as normal), so a forged
 * "bogon" answer must be another reserved address the resolver may still hand
 * out: one from the benchmarking range, where nothing listens on the host.
 */
export const LOOPBACK_BOGON = '198.19.255.254';

/** The bogon the namespace tier injects (there 198.18.0.0/15 is the lab's "Internet"). */
export const NAMESPACE_BOGON = '127.0.0.1';

/** True when `ip` is inside one of the ranges the lab may use. */
export function isLabAddress(ip: string): boolean {
  return cidrContains(LAB_RANGES.loopback, ip) || cidrContains(LAB_RANGES.benchmarking, ip);
}

/** Throw unless `ip` is an IPv4 address inside the lab's ranges. `what` names the option. */
export function assertLabAddress(ip: string, what: string): string {
  if (isIP(ip) !== 4 || !isLabAddress(ip)) {
    throw new InvalidArgumentError(
      `${what}: ${JSON.stringify(ip)} is not an IPv4 address inside 127.0.0.0/8 or 198.18.0.0/15 (the only ranges the lab may use)`,
    );
  }
  return ip;
}

/** The IPv4 address `n` positions after `ip` (127.10.0.254 + 2 = 127.10.1.0... skipping .0 and .255). */
export function nthHostAfter(ip: string, n: number): string {
  const bytes = ipToBytes(ip);
  if (bytes === undefined || bytes.length !== 4) throw new InvalidArgumentError(`not an IPv4 address: ${ip}`);
  let value = ((bytes[0] ?? 0) << 24 >>> 0) + ((bytes[1] ?? 0) << 16) + ((bytes[2] ?? 0) << 8) + (bytes[3] ?? 0);
  for (let i = 0; i < n; i += 1) {
    value += 1;
    // Skip .0 and .255 host bytes: valid on loopback, but they look odd in logs.
    while ((value & 0xff) === 0 || (value & 0xff) === 0xff) value += 1;
  }
  return formatIp(new Uint8Array([(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]));
}

/** Strip the IPv4-mapped prefix node reports on dual-stack sockets ("::ffff:127.0.2.1"). */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
