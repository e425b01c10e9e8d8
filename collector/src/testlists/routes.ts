import { HttpError, type Router } from '../http/router.js';
import type { TestListCatalog } from './catalog.js';

/** Path of the bundle download; `{version}` is what Welcome announced. */
export const TEST_LIST_PATH = '/api/v1/test-lists/:version';

/** Serve the offered bundle at GET /api/v1/test-lists/{version}. */
export function registerTestListRoutes(router: Router, catalog: TestListCatalog): void {
  router.add('GET', TEST_LIST_PATH, ({ res, params }) => {
    const version = params['version'] ?? '';
    const document = catalog.document(version);
    if (document === undefined) {
      throw new HttpError(404, 'STEPPE_ERR_NOT_FOUND', `no test-list bundle with version ${JSON.stringify(version.slice(0, 64))} (offered: ${JSON.stringify(catalog.version())})`);
    }
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(document),
      // A version names immutable content.
      'cache-control': 'public, max-age=31536000, immutable',
    });
    res.end(document);
  });
}
