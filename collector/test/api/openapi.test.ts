import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCollector } from '../../src/collector-app.js';
import { INGEST_PATH } from '@steppe/shared';

const spec = readFileSync(new URL('../../../docs/api/openapi.yaml', import.meta.url), 'utf8');

/** "METHOD /path/{param}" for every operation under `paths:` (indentation-based: no YAML parser needed). */
function documentedOperations(text: string): Set<string> {
  const ops = new Set<string>();
  let inPaths = false;
  let path: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\S/.test(line)) inPaths = line.startsWith('paths:');
    if (!inPaths) continue;
    const p = /^ {2}(\/\S*):\s*$/.exec(line);
    if (p !== null) path = p[1];
    const m = /^ {4}(get|post|put|delete|patch|head):\s*$/.exec(line);
    if (m !== null && path !== undefined) ops.add(`${(m[1] ?? '').toUpperCase()} ${path}`);
  }
  return ops;
}

describe('docs/api/openapi.yaml', () => {
  it('is OpenAPI 3.1 and documents exactly the routes the collector serves', async () => {
    expect(spec).toMatch(/^openapi: 3\.1\.\d+$/m);
    // The whole collector as `serve` composes it: API, control, exports,
    // test lists, dashboard, plus the WebSocket ingest path.
    const dir = mkdtempSync(join(tmpdir(), 'steppe-openapi-'));
    const collector = await startCollector({
      db: join(dir, 'collector.db'),
      dataDir: dir,
      host: '127.0.0.1',
      port: 0,
      control: { resolver: { host: '127.0.0.1', port: 53 }, allowNet: [] },
      geoDatabases: false,
      adminToken: 'x'.repeat(16),
    });
    const routes = [...collector.routes, { method: 'GET', pattern: INGEST_PATH }];
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
    const registered = new Set(routes.map((r) => `${r.method} ${r.pattern.replace(/:([a-z_]+)/g, '{$1}')}`));
    const documented = documentedOperations(spec);
    expect(registered.size).toBeGreaterThan(25);
    for (const op of registered) expect(documented, `${op} is not in openapi.yaml`).toContain(op);
    for (const op of documented) expect(registered, `${op} is documented but not served`).toContain(op);
  });

  it('defines every schema, parameter and response it references', () => {
    const refs = [...spec.matchAll(/\$ref: '#\/components\/(\w+)\/(\w+)'/g)].map((m) => [m[1] ?? '', m[2] ?? ''] as const);
    expect(refs.length).toBeGreaterThan(20);
    for (const [section, name] of refs) {
      const sectionAt = spec.indexOf(`\n  ${section}:\n`);
      expect(sectionAt, section).toBeGreaterThan(0);
      expect(new RegExp(`\\n {4}${name}:\\n`).test(spec.slice(sectionAt)), `${section}/${name}`).toBe(true);
    }
  });
});
