import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Tests run against TypeScript sources; workspace packages are aliased to their
// src/ entry so a test never depends on a stale build. Spawned CLIs use dist/
// (npm test builds first).
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@steppe\/shared$/, replacement: src('./shared/src/index.ts') },
      { find: /^steppe-probe$/, replacement: src('./probe/src/index.ts') },
      { find: /^steppe-collector$/, replacement: src('./collector/src/index.ts') },
    ],
  },
  test: {
    include: [
      'shared/test/**/*.test.ts',
      'probe/test/**/*.test.ts',
      'collector/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
