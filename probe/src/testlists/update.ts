import { SteppeError } from '@steppe/shared';
import type { HttpGet } from '../connectivity/http-get.js';
import { MAX_BUNDLE_BYTES, TEST_LIST_VERSION_PATTERN } from '@steppe/shared';
import type { TestListStore } from './store.js';

/** The collector route serving a bundle (docs/cli.md). */
export function testListBundleUrl(collectorUrl: string, version: string): string {
  return new URL(`api/v1/test-lists/${encodeURIComponent(version)}`, collectorUrl.endsWith('/') ? collectorUrl : `${collectorUrl}/`).toString();
}

/** What {@link updateTestLists} did. */
export type TestListUpdate =
  | { readonly outcome: 'current'; readonly version: string }
  | { readonly outcome: 'installed'; readonly version: string; readonly previous: string | undefined; readonly lists: string[]; readonly bytes: number };

/**
 * Bring the lists to the version a collector announced (its Welcome carries
 * `test_list_version`): fetch `GET {collector}/api/v1/test-lists/{version}`,
 * validate it whole and install it. Any failure — unreachable, HTTP error,
 * too large, invalid — throws STEPPE_ERR_TEST_LIST and leaves the lists in
 * use untouched.
 */
export async function updateTestLists(options: {
  readonly store: TestListStore;
  readonly get: HttpGet;
  readonly collectorUrl: string;
  readonly version: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Bytes moved, for the bandwidth budget. */
  readonly onTraffic?: (bytes: number) => void;
}): Promise<TestListUpdate> {
  const { store, version } = options;
  if (!TEST_LIST_VERSION_PATTERN.test(version)) {
    throw new SteppeError('STEPPE_ERR_TEST_LIST', `collector announced test-list version ${JSON.stringify(version.slice(0, 80))}, which is not a valid version string`);
  }
  const previous = store.installedVersion();
  if (previous === version) return { outcome: 'current', version };
  const url = testListBundleUrl(options.collectorUrl, version);
  let text: string;
  try {
    const response = await options.get(url, {
      timeoutMs: options.timeoutMs,
      maxBytes: MAX_BUNDLE_BYTES,
      headers: { accept: 'application/json' },
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    options.onTraffic?.(response.bytesMoved);
    if (response.status !== 200) throw new Error(`HTTP status ${response.status}`);
    text = response.body.toString('utf8');
  } catch (cause) {
    throw new SteppeError('STEPPE_ERR_TEST_LIST', `could not fetch test lists ${version}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  const bundle = store.install(text, version);
  return { outcome: 'installed', version, previous, lists: bundle.lists.map((l) => l.name), bytes: Buffer.byteLength(text) };
}
