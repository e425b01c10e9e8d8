import { describe, expect, it } from 'vitest';
import { Trace } from '@steppe/shared';

describe('Trace', () => {
  it('orders each list by start time and snapshots', () => {
    const trace = new Trace({ clock: { now: () => 1_700_000_000_123 } });
    expect(trace.startTimeMs).toBe(1_700_000_000_123);
    trace.addTcpConnect({ ip: '127.0.0.1', port: 2, failure: '', t0Ms: 5, t1Ms: 6, attempt: 0 });
    trace.addTcpConnect({ ip: '127.0.0.1', port: 1, failure: '', t0Ms: 1, t1Ms: 9, attempt: 0 });
    const snap = trace.observations();
    expect(snap.tcpConnects.map((c) => c.port)).toEqual([1, 2]);
    trace.addTcpConnect({ ip: '127.0.0.1', port: 3, failure: '', t0Ms: 0, t1Ms: 1, attempt: 0 });
    expect(snap.tcpConnects).toHaveLength(2);
    const a = trace.elapsedMs();
    const b = trace.elapsedMs();
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
