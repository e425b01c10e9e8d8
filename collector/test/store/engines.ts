import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe } from 'vitest';
import { type OpenStoreOptions, openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';

/**
 * The storage engines the conformance tests run against. A test file calls
 * `describeEngines('name', (engine) => { ... })`; inside, `engine.open()`
 * gives a fresh, empty store of its own (SQLite: a new file in the test
 * file's temporary folder, writes on the writer thread, as in production;
 * PostgreSQL: a new schema or database in the test file's namespace), and
 * everything the file created is closed and dropped after it.
 *
 * To add an engine, append a factory to ENGINE_FACTORIES: `available()`
 * is asked once per test file (undefined: run; a string: why not — the
 * engine's tests are skipped with that message printed, or the factory
 * throws where skipping is not allowed, e.g. in CI); `start(label)` runs
 * once per test file on first use (e.g. create the file's database, named
 * after `label`) and returns how to get a new database spec in it and how to
 * drop it all.
 */

/** One engine as a test file sees it. */
export interface EngineUnderTest {
  /** 'sqlite', 'postgresql', ... (the describe block's name). */
  readonly name: string;
  /** Why this engine's tests are skipped here; undefined when they run. */
  readonly skipReason: string | undefined;
  /** A new, empty store (its own database or schema), migrated to the latest version. */
  open(options?: OpenStoreOptions): Promise<Store>;
  /** A spec (`--db` value) for a new, empty database that a CLI or a collector process opens itself. */
  newSpec(): Promise<string>;
  /**
   * The database spec a store was opened on, to open it again (reopening,
   * durability) or hand to a CLI (`--db`). Only for stores this engine opened.
   */
  specOf(store: Store): string;
  /** Close every store still open and drop what the file created. Runs after the file's tests. */
  cleanup(): Promise<void>;
}

/** What a factory starts for one test file. */
export interface EngineFile {
  /** A spec (path or URL) for a new, empty database in this file's namespace. */
  newSpec(): Promise<string>;
  /** Drop everything made for the file. */
  drop(): Promise<void>;
}

/** A registered engine. */
export interface EngineFactory {
  readonly name: string;
  /** undefined when the engine can run here, else why not (its tests are skipped). */
  available(): Promise<string | undefined>;
  /** Prepare one test file's namespace. */
  start(label: string): Promise<EngineFile>;
}

const sqliteFactory: EngineFactory = {
  name: 'sqlite',
  available: async () => undefined,
  start: async (label) => {
    const dir = mkdtempSync(join(tmpdir(), `steppe-${label.replace(/[^a-z0-9-]/gi, '-')}-`));
    let n = 0;
    return {
      newSpec: async () => join(dir, `store-${(n += 1)}.db`),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

/** Every engine the suite knows; the PostgreSQL branch appends its own. */
export const ENGINE_FACTORIES: readonly EngineFactory[] = [sqliteFactory];

/** Why each engine cannot run here (absent: it can), asked once per test file. */
const UNAVAILABLE = new Map<string, string>();
for (const factory of ENGINE_FACTORIES) {
  const reason = await factory.available();
  if (reason !== undefined) UNAVAILABLE.set(factory.name, reason);
}

/** Engines for one test file: started lazily, on the first open(). */
export function storeEngines(label: string): EngineUnderTest[] {
  return ENGINE_FACTORIES.map((factory) => {
    let file: Promise<EngineFile> | undefined;
    const opened = new Map<Store, string>();
    const started = (): Promise<EngineFile> => (file ??= factory.start(label));
    return {
      name: factory.name,
      skipReason: UNAVAILABLE.get(factory.name),
      newSpec: async () => (await started()).newSpec(),
      open: async (options) => {
        const spec = await (await started()).newSpec();
        const store = await openStore(spec, options);
        opened.set(store, spec);
        return store;
      },
      specOf: (store) => {
        const spec = opened.get(store);
        if (spec === undefined) throw new Error('specOf: a store this engine did not open');
        return spec;
      },
      cleanup: async () => {
        await Promise.all([...opened.keys()].map((s) => s.close()));
        opened.clear();
        if (file !== undefined) await (await file).drop();
      },
    };
  });
}

/**
 * A describe block per engine, with cleanup after the file's tests: the
 * conformance suite's entry point. `label` names the file's namespace.
 */
export function describeEngines(label: string, body: (engine: EngineUnderTest) => void): void {
  for (const engine of storeEngines(label)) {
    if (engine.skipReason !== undefined) {
      process.stderr.write(`\n*** ${label}: the ${engine.name} store tests are SKIPPED: ${engine.skipReason} ***\n\n`);
    }
    describe.skipIf(engine.skipReason !== undefined)(`[${engine.name}]`, () => {
      afterAll(() => engine.cleanup());
      body(engine);
    });
  }
}
