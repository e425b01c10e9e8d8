import { describe, expect, it } from 'vitest';
import { SCRUBBED, scrubIpAddresses, scrubValues } from '../src/index.js';

describe('scrubbing', () => {
  it('replaces IPv4 and IPv6 literals but not look-alikes', () => {
    expect(scrubIpAddresses('connect 95.56.12.7:443 failed')).toBe(`connect ${SCRUBBED}:443 failed`);
    expect(scrubIpAddresses('from 2a02:8108::1 and fe80::1%eth0')).toBe(`from ${SCRUBBED} and ${SCRUBBED}`);
    expect(scrubIpAddresses('at 12:30:45, version 1.2.3.4.5, 999.1.1.1')).toBe('at 12:30:45, version 1.2.3.4.5, 999.1.1.1');
  });

  it('removes known values wherever they occur', () => {
    expect(scrubValues('X-Client: 95.56.12.7; you are 95.56.12.7', ['95.56.12.7', ''])).toBe(`X-Client: ${SCRUBBED}; you are ${SCRUBBED}`);
  });
});

describe('scrubValues boundaries', () => {
  it('matches whole addresses only', () => {
    expect(scrubValues('a 127.0.2.1 b 127.0.2.10 c 127.0.2.1:443 d 127.0.2.1.', ['127.0.2.1'])).toBe(`a ${SCRUBBED} b 127.0.2.10 c ${SCRUBBED}:443 d ${SCRUBBED}.`);
    expect(scrubValues('2a02:8108::1 and 2a02:8108::12', ['2a02:8108::1'])).toBe(`${SCRUBBED} and 2a02:8108::12`);
    expect(scrubValues('x=95.56.12.7&y', ['95.56.12.7'])).toBe(`x=${SCRUBBED}&y`);
  });
});
