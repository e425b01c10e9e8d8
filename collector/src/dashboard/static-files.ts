import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SteppeError } from '@steppe/shared';

/**
 * The dashboard's files: hand-written ES modules, CSS and HTML kept in
 * src/dashboard/assets/ (no build step: tsc type-checks them through
 * assets/tsconfig.json, nothing compiles them), and uPlot's dist files from
 * node_modules. Both are found relative to this module, so the collector
 * serves the same files whether it runs from src/ (tests) or dist/:
 * `../../src/dashboard/assets/` is the assets folder from either. The i18n
 * modules are the shared package's own source files (shared/src/i18n/*.js,
 * plain JavaScript that Node runs too), and intl-messageformat is the
 * package's single-file ES module build: one formatter everywhere.
 */

/** The assets folder, resolved from this module (src/dashboard/ or dist/dashboard/). */
export const ASSETS_DIR: string = fileURLToPath(new URL('../../src/dashboard/assets/', import.meta.url));

/** A file the dashboard serves, read once at start-up. */
export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** Strong validator: a digest of the bytes. */
  readonly etag: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/** Files of assets/ served under /dashboard/assets/ (an allow-list: nothing else in the folder is served). */
export const ASSET_FILES = ['app.js', 'api.js', 'filters.js', 'heat-strip.js', 'episodes.js', 'downloads.js', 'i18n.js', 'style.css'] as const;

/** Third-party files served under /dashboard/vendor/, by the name the page uses: [package, path in the package]. */
export const VENDOR_FILES: Readonly<Record<string, readonly [string, string]>> = {
  'uPlot.esm.js': ['uplot', 'dist/uPlot.esm.js'],
  'uPlot.min.css': ['uplot', 'dist/uPlot.min.css'],
  // The package's self-contained ES module (it ends in `export {...}` despite its name).
  'intl-messageformat.js': ['intl-messageformat', 'intl-messageformat.iife.js'],
};

/** Modules of @steppe/shared's src/i18n/ served under /dashboard/i18n/ (docs/translations.md). */
export const I18N_FILES = ['languages.js', 'translator.js', 'time-text.js', 'evidence-text.js'] as const;

function typeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.'));
  const type = TYPES[ext];
  if (type === undefined) throw new SteppeError('STEPPE_ERR_INTERNAL', `dashboard: no content type for ${name}`);
  return type;
}

function load(path: string, name: string): StaticFile {
  let body: Buffer;
  try {
    body = readFileSync(path);
  } catch (cause) {
    // A collector without its dashboard files must not start half-broken.
    throw new SteppeError('STEPPE_ERR_INTERNAL', `dashboard: cannot read ${path} (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
  return { body, contentType: typeOf(name), etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** The root folder of an installed package: up from its entry point to the package.json naming it. */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name === name) return dir;
    } catch {
      // no package.json here: go up
    }
    const parent = dirname(dir);
    if (parent === dir) throw new SteppeError('STEPPE_ERR_INTERNAL', `dashboard: cannot find the package ${name}`);
    dir = parent;
  }
}

/** Read the page template, the assets, the i18n modules and the vendored files. */
export function loadDashboardFiles(): { page: string; assets: Map<string, StaticFile>; i18n: Map<string, StaticFile>; vendor: Map<string, StaticFile> } {
  const page = load(`${ASSETS_DIR}index.html`, 'index.html').body.toString('utf8');
  const assets = new Map(ASSET_FILES.map((name) => [name, load(`${ASSETS_DIR}${name}`, name)] as const));
  const require = createRequire(import.meta.url);
  const sharedI18n = join(dirname(require.resolve('@steppe/shared/package.json')), 'src', 'i18n');
  const i18n = new Map(I18N_FILES.map((name) => [name, load(join(sharedI18n, name), name)] as const));
  const vendor = new Map(Object.entries(VENDOR_FILES).map(([name, [pkg, file]]) => [name, load(join(packageDir(pkg), file), name)] as const));
  return { page, assets, i18n, vendor };
}

/** A StaticFile of generated text. */
export function staticText(text: string, contentType: string): StaticFile {
  const body = Buffer.from(text, 'utf8');
  return { body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}
