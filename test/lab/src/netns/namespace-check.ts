import type { NetworkInterfaceInfo } from 'node:os';
import { cidrContains, parseCidr } from '@steppe/shared';
import { NAMESPACE_RANGE } from './topology.js';

const labRange = parseCidr(NAMESPACE_RANGE);
const loopback = [parseCidr('127.0.0.0/8'), parseCidr('::1/128')];

/**
 * Why a process must not run the probe here (empty: it may). Pure: takes
 * the process's network-namespace inode, the root namespace's, and
 * `os.networkInterfaces()`.
 */
export function namespaceViolations(
  ownInode: number,
  rootInode: number,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string[] {
  const violations: string[] = [];
  if (ownInode === rootInode) violations.push('this process is in the root network namespace, not a lab namespace');
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const info of addresses ?? []) {
      const allowed = cidrContains(labRange, info.address) || loopback.some((c) => cidrContains(c, info.address))
        // An interface's IPv6 link-local address appears as soon as it is up; it routes nowhere.
        || (info.family === 'IPv6' && info.address.toLowerCase().startsWith('fe80:'));
      if (!allowed) violations.push(`interface ${name} has address ${info.address}, outside ${NAMESPACE_RANGE}`);
    }
  }
  return violations;
}
