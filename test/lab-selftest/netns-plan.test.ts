import { describe, expect, it } from 'vitest';
import {
  CENSOR_CHAIN, NAMESPACE_ADDRESSES, iptablesCommands, namespaceNames, namespaceOwner, namespaceViolations, probeArguments,
  ruleSpecs, setupCommands, teardownCommands,
} from '../lab/src/netns/index.js';
import { isLabAddress } from '../lab/src/index.js';

// The namespace tier's plan, checked without root: what it would run.

describe('namespace topology plan', () => {
  const names = namespaceNames(4242, 'ab12cd');

  it('names namespaces per process and run, and recognises only its own names', () => {
    expect(names).toEqual({
      probe: 'steppe-39u-ab12cd-probe', control: 'steppe-39u-ab12cd-control', censor: 'steppe-39u-ab12cd-censor', world: 'steppe-39u-ab12cd-world',
    });
    expect(namespaceOwner(names.censor)).toBe(4242);
    expect(namespaceOwner('steppe-39u-ab12cd-other')).toBeUndefined();
    expect(namespaceOwner('docker-netns')).toBeUndefined();
    expect(() => namespaceNames(0, 'ab12cd')).toThrow(/pid/);
    expect(() => namespaceNames(1, 'AB!')).toThrow(/nonce/);
  });

  it('uses 198.18.0.0/15 only, never touches the root namespace, adds no default route', () => {
    const commands = setupCommands(names);
    const text = commands.map((c) => c.join(' '));
    for (const address of Object.values(NAMESPACE_ADDRESSES)) {
      expect(address.startsWith('198.18.'), address).toBe(true);
    }
    for (const command of commands) {
      expect(command[0] === 'ip', command.join(' ')).toBe(true);
      // Every command names a namespace: `ip -n NS`, `ip netns add/exec NS`, or creates veths `netns NS` on both ends.
      const inNamespace = command[1] === '-n' || command[1] === 'netns'
        || (command[1] === 'link' && command.filter((w) => w === 'netns').length === 2);
      expect(inNamespace, command.join(' ')).toBe(true);
    }
    for (const line of text) {
      expect(line).not.toMatch(/\bdefault\b/);
      for (const ip of line.match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? []) expect(isLabAddress(ip), `${ip} in ${line}`).toBe(true);
      expect(line).not.toMatch(/\b127\./);
    }
    expect(text).toContain(`ip netns exec ${names.censor} iptables -w -A FORWARD -j ${CENSOR_CHAIN}`);
    expect(teardownCommands(names)).toEqual([names.probe, names.control, names.censor, names.world].map((n) => ['ip', 'netns', 'del', n]));
  });
});

describe('packet rules (iptables specifications)', () => {
  it('turns each rule into FORWARD-chain specs matching only the probe side', () => {
    expect(ruleSpecs({ kind: 'syn-reset', address: '198.18.2.11', port: 443 }, 1)).toEqual([
      ['-i', 'to-probe', '-p', 'tcp', '-d', '198.18.2.11', '--dport', '443', '--syn', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ]);
    expect(ruleSpecs({ kind: 'syn-drop', address: '198.18.2.11' }, 1)).toEqual([['-i', 'to-probe', '-p', 'tcp', '-d', '198.18.2.11', '--syn', '-j', 'DROP']]);
    expect(ruleSpecs({ kind: 'sni-reset', sni: 'www.facebook.com' }, 1)).toEqual([
      ['-i', 'to-probe', '-p', 'tcp', '--dport', '443', '-m', 'string', '--string', 'www.facebook.com', '--algo', 'bm', '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ]);
    expect(ruleSpecs({ kind: 'police', address: '198.18.2.16', bytesPerSecond: 12_500 }, 7)).toEqual([
      ['-o', 'to-probe', '-s', '198.18.2.16', '-m', 'hashlimit', '--hashlimit-above', '12500b/s', '--hashlimit-burst', '12500b',
        '--hashlimit-mode', 'srcip,dstip', '--hashlimit-name', 'steppe7', '-j', 'DROP'],
    ]);
    expect(ruleSpecs({ kind: 'shutdown' }, 1)).toEqual([['-i', 'to-probe', '-j', 'DROP'], ['-o', 'to-probe', '-j', 'DROP']]);
    expect(iptablesCommands('-D', { kind: 'shutdown' }, 1)[0]).toEqual(['iptables', '-w', '-D', 'STEPPE', '-i', 'to-probe', '-j', 'DROP']);
    for (const spec of ruleSpecs({ kind: 'syn-drop', address: '198.18.2.11' }, 1)) expect(spec).not.toContain('to-control');
  });

  it('refuses addresses outside the lab range and odd names', () => {
    expect(() => ruleSpecs({ kind: 'syn-reset', address: '8.8.8.8' }, 1)).toThrow(/inside 198.18.0.0\/15/);
    expect(() => ruleSpecs({ kind: 'syn-reset', address: '127.0.0.1' }, 1)).toThrow(/inside 198.18.0.0\/15/);
    expect(() => ruleSpecs({ kind: 'sni-reset', sni: 'x; rm -rf /' }, 1)).toThrow(/not a host name/);
    expect(() => ruleSpecs({ kind: 'police', address: '198.18.2.10', bytesPerSecond: 10 }, 1)).toThrow(/bytesPerSecond/);
    expect(() => ruleSpecs({ kind: 'police', address: '198.18.2.10', bytesPerSecond: 100_000 }, 1)).toThrow(/from 1000 to 64000/);
    expect(() => ruleSpecs({ kind: 'police', address: '198.18.2.10', bytesPerSecond: 20_000, burstBytes: 1000 }, 1)).toThrow(/burstBytes/);
    expect(() => ruleSpecs({ kind: 'syn-drop', address: '198.18.2.10', port: 70_000 }, 1)).toThrow(/port/);
  });
});

describe('probe guard', () => {
  it('allows the probe 198.18.0.0/15 alone, adding it when absent', () => {
    expect(probeArguments(['measure', 'https://vlast.kz/'])).toEqual(['measure', 'https://vlast.kz/', '--allow-net', '198.18.0.0/15']);
    expect(probeArguments(['measure', '--allow-net', '198.18.0.0/15'])).toEqual(['measure', '--allow-net', '198.18.0.0/15']);
    expect(probeArguments(['--allow-net=198.18.0.0/15', '--local-address', '198.18.0.2'])).toHaveLength(3);
    expect(() => probeArguments(['--allow-net', '0.0.0.0/0'])).toThrow(/198.18.0.0\/15 alone/);
    expect(() => probeArguments(['--allow-net', '198.18.0.0/15,127.0.0.0/8'])).toThrow(/alone/);
    expect(() => probeArguments(['--allow-net=10.0.0.0/8'])).toThrow(/alone/);
    expect(() => probeArguments(['--local-address', '127.0.2.1'])).toThrow(/--local-address/);
  });

  it('refuses the root namespace and any interface outside the lab range', () => {
    const lab = { lo: [{ address: '127.0.0.1', family: 'IPv4' }], eth0: [{ address: '198.18.0.2', family: 'IPv4' }, { address: 'fe80::1', family: 'IPv6' }] };
    expect(namespaceViolations(2, 1, lab as never)).toEqual([]);
    expect(namespaceViolations(1, 1, lab as never)).toEqual([expect.stringContaining('root network namespace')]);
    const leaky = { ...lab, wlan0: [{ address: '192.168.1.20', family: 'IPv4' }] };
    expect(namespaceViolations(2, 1, leaky as never)).toEqual([expect.stringContaining('wlan0 has address 192.168.1.20')]);
  });
});
