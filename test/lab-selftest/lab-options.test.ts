import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@steppe/shared';
import { BLOCKPAGE_DOMAIN, LAB_SITES, startLab } from '../lab/src/index.js';

// startLab validates its options before binding anything.

describe('startLab options', () => {
  it('refuses addresses outside 127.0.0.0/8 and 198.18.0.0/15', async () => {
    await expect(startLab({ firstSiteAddress: '10.0.0.1' })).rejects.toThrow(/firstSiteAddress: "10.0.0.1" is not an IPv4 address inside 127.0.0.0\/8 or 198.18.0.0\/15/);
    await expect(startLab({ resolverAddress: '8.8.8.8' })).rejects.toThrow(/resolverAddress/);
    await expect(startLab({ bogonAddress: '192.168.1.1' })).rejects.toThrow(/bogonAddress/);
    await expect(startLab({ resolverAddress: '127.10.0.1' })).rejects.toThrow(/collides with a site address/);
    await expect(startLab({ publicResolverAddress: '127.53.0.1' })).rejects.toThrow(/publicResolverAddress: collides/);
  });

  it('refuses bad sites, ports and sizes, naming the option', async () => {
    await expect(startLab({ sites: LAB_SITES.filter((s) => s.domain !== BLOCKPAGE_DOMAIN) })).rejects.toThrow(/role "blockpage"/);
    await expect(startLab({ extraSites: [{ domain: 'facebook.com', title: 't', tagline: 't', organization: 'o' }] })).rejects.toThrow(/duplicate facebook.com/);
    await expect(startLab({ extraSites: [{ domain: 'bad_name', title: 't', tagline: 't', organization: 'o' }] })).rejects.toThrow(`sites[${LAB_SITES.length}].domain`);
    await expect(startLab({ ports: { http: 70_000 } })).rejects.toThrow(/ports.http/);
    await expect(startLab({ pageBytes: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(startLab({ networks: [{ id: 'x', name: 'x', asn: 1, cidr: '10.1.0.0/24', role: 'in-country' }] })).rejects.toThrow(/networks\[0\].cidr/);
  });
});
