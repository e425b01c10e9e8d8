import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Importing @steppe/shared must not load undici (~20 MiB of RSS with its
// llhttp WebAssembly) nor dns-packet: an idle probe daemon and every CLI
// would pay for them. netx loads them on first use (netx/lazy-module.ts).
// Run against the built package (`npx tsc -b` first), in a fresh process.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function loadedPackages(script: string): string[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
    import { createRequire } from 'node:module';
    const shared = await import('@steppe/shared');
    ${script}
    const names = Object.keys(createRequire(import.meta.url).cache)
      .map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1])
      .filter((n) => n !== undefined);
    process.stdout.write(JSON.stringify([...new Set(names)].sort()));
  `], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out) as string[];
}

describe('@steppe/shared loads its heavy dependencies on first use', () => {
  it('importing the package loads neither undici nor dns-packet', () => {
    const loaded = loadedPackages('');
    expect(loaded).toContain('protobufjs');
    expect(loaded).not.toContain('undici');
    expect(loaded).not.toContain('dns-packet');
  });

  it('the first DNS message and the first HTTP client load them', () => {
    const loaded = loadedPackages(`
      shared.encodeDnsQuery(1, 'example.org', 'A');
      const guard = new shared.EgressGuard(shared.parseCidrList('127.0.0.0/8'));
      const pinned = shared.pinnedClient({ origin: new URL('http://127.0.0.1:9'), ip: '127.0.0.1', port: 9, alpn: ['http/1.1'], guard, trace: new shared.Trace(), signal: new AbortController().signal, timeoutMs: 1000 });
      await pinned.client.destroy();
    `);
    expect(loaded).toContain('undici');
    expect(loaded).toContain('dns-packet');
  });
});
