import type { EventEmitter } from 'node:events';
import { SteppeError } from '@steppe/shared';
import type { HttpGet } from '../connectivity/http-get.js';
import type { TestListStore } from '../testlists/store.js';
import { updateTestLists } from '../testlists/update.js';
import { ingestUrl } from '../uplink/collector-url.js';
import { errorText, type JsonLog } from '@steppe/shared';

/** What the list updater needs (a ProbeContext has it all). */
export interface ListUpdaterDeps {
  /** Emits `testListVersion` ({url, version}) from each Welcome (the Uplink). */
  readonly uplink: Pick<EventEmitter, 'on' | 'off'>;
  readonly lists: TestListStore;
  readonly http: HttpGet;
  readonly config: { readonly collectors: readonly string[]; readonly testLists: { readonly acceptFromCollector: boolean } };
  /** Bytes moved, charged to the monthly budget. */
  readonly charge: (bytes: number) => void;
  readonly timeoutMs?: number;
  /** Called after each attempt (tests wait on it). */
  readonly onSettled?: () => void;
}

/**
 * Follow the test-list version collectors announce in their Welcome: when it
 * differs from the lists in use (and the config accepts collector lists),
 * fetch, validate and install it. One update at a time; a refused or
 * unreachable bundle is logged and the lists in use stay. Returns a function
 * that stops listening.
 */
export function followTestListUpdates(deps: ListUpdaterDeps, log: JsonLog, signal: AbortSignal): () => void {
  let busy = false;
  const onVersion = (event: { url: string; version: string }): void => {
    if (!deps.config.testLists.acceptFromCollector || busy || signal.aborted) return;
    if (event.version === '' || event.version === deps.lists.currentVersion()) return;
    const collector = deps.config.collectors.find((c) => ingestUrl(c) === event.url) ?? deps.config.collectors[0];
    if (collector === undefined) return;
    busy = true;
    void updateTestLists({
      store: deps.lists,
      get: deps.http,
      collectorUrl: collector,
      version: event.version,
      timeoutMs: deps.timeoutMs ?? 60_000,
      signal,
      onTraffic: deps.charge,
    })
      .then((result) => {
        if (result.outcome === 'installed') {
          log.info('test_lists_installed', { version: result.version, previous: result.previous ?? null, lists: result.lists, bytes: result.bytes });
        }
      })
      .catch((err: unknown) => {
        log.warn('test_lists_refused', { version: event.version, error: errorText(err), kept: deps.lists.currentVersion(), code: err instanceof SteppeError ? err.code : null });
      })
      .finally(() => {
        busy = false;
        deps.onSettled?.();
      });
  };
  deps.uplink.on('testListVersion', onVersion);
  return () => {
    deps.uplink.off('testListVersion', onVersion);
  };
}
