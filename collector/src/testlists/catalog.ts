import { readFileSync } from 'node:fs';
import { ConfigError, MAX_BUNDLE_BYTES, SteppeError, parseTestListBundle } from '@steppe/shared';

/**
 * The test-list bundle a collector offers its probes (docs/cli.md, "Test lists
 * pushed by the collector"). It is validated with the same parser the probes
 * use before it is offered, so a collector never announces a bundle its
 * probes would refuse. Its version goes into every Welcome.
 */
export class TestListCatalog {
  readonly #version: string;
  readonly #document: string | undefined;

  private constructor(version: string, document: string | undefined) {
    this.#version = version;
    this.#document = document;
  }

  /** No bundle: Welcome announces no version and the route answers 404. */
  static empty(): TestListCatalog {
    return new TestListCatalog('', undefined);
  }

  /** Read and validate a bundle file; a ConfigError names the file and the problem. */
  static load(path: string): TestListCatalog {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new ConfigError('testListBundle', `${path}: cannot read test-list bundle (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    }
    if (Buffer.byteLength(text) > MAX_BUNDLE_BYTES) {
      throw new ConfigError('testListBundle', `${path}: test-list bundle exceeds ${MAX_BUNDLE_BYTES} bytes`);
    }
    try {
      const bundle = parseTestListBundle(text);
      return new TestListCatalog(bundle.version, text);
    } catch (err) {
      if (err instanceof SteppeError) throw new ConfigError('testListBundle', `${path}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  /** The version announced to probes ('' when there is none). */
  version(): string {
    return this.#version;
  }

  /** The bundle document for `version`, if it is the one offered. */
  document(version: string): string | undefined {
    return version === this.#version ? this.#document : undefined;
  }
}
