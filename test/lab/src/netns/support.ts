import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SteppeError } from '@steppe/shared';

/** Whether the namespace tier can run here, and if not, why. */
export type NamespaceSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

function runs(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 });
  return result.error === undefined && result.status === 0;
}

/**
 * The namespace tier needs Linux, root, iproute2 (`ip`) and iptables (the
 * nftables backend is fine; the string and hashlimit matches are xtables
 * extensions). Debian: `apt-get install -y iproute2 iptables nftables`.
 */
export function namespaceTierSupport(): NamespaceSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (CI runs these tests as root)' };
  if (!runs('ip', ['-V'])) return { ok: false, reason: 'the ip command (iproute2) is missing: apt-get install -y iproute2' };
  if (!runs('iptables', ['--version'])) return { ok: false, reason: 'the iptables command is missing: apt-get install -y iptables nftables' };
  return { ok: true };
}

/** The built entry points the namespaces run (plain JS: `npx tsc -b` makes them). */
export function builtEntryPoints(): { readonly world: string; readonly client: string; readonly guard: string } {
  // Works from src/netns (vitest) and dist/netns (built): both are two levels below test/lab.
  const dist = (name: string): string => fileURLToPath(new URL(`../../dist/netns/${name}`, import.meta.url));
  return { world: dist('world.js'), client: dist('client.js'), guard: dist('in-namespace.js') };
}

/** Throw a clear message when the entry points were not built. */
export function assertBuilt(): void {
  const missing = Object.values(builtEntryPoints()).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new SteppeError('STEPPE_ERR_LAB', `the namespace tier runs built JS, missing: ${missing.join(', ')}; run \`npx tsc -b\` first`);
  }
}
