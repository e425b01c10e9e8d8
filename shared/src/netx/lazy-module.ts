import { createRequire } from 'node:module';

// Resolved from this file, so a package is found exactly as a static import
// from netx/ would find it (shared/node_modules, then the workspace root).
const requireFromNetx = createRequire(import.meta.url);

/**
 * A loader of a CommonJS package that `require`s it on first call and then
 * returns the cached module. netx loads its heavy dependencies this way
 * (undici with its llhttp WebAssembly: ~20 MiB of RSS and ~150 ms; dns-packet)
 * so that importing @steppe/shared costs nothing for them: an idle probe
 * daemon, `--help`, the collector's commands and every spawned CLI never pay
 * for an HTTP client they do not use. `require` (not `await import()`) keeps
 * the callers synchronous, so the public API does not change; bench/probe-footprint
 * has the figures.
 */
export function lazyModule<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => {
    loaded ??= requireFromNetx(specifier) as T;
    return loaded;
  };
}
