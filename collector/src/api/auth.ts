import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../http/router.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * Require `Authorization: Bearer <admin token>`. The comparison is in
 * constant time over SHA-256 digests, so neither the token's bytes nor its
 * length leak through timing. With no token configured, admin routes are off.
 */
export function requireAdmin(req: IncomingMessage, adminToken: string | undefined): void {
  if (adminToken === undefined || adminToken.length === 0) {
    throw new HttpError(403, 'STEPPE_ERR_UNAUTHORIZED', 'admin routes are disabled on this collector (no admin token configured)');
  }
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (m === null || m[1] === undefined || !timingSafeEqual(digest(m[1]), digest(adminToken))) {
    throw new HttpError(401, 'STEPPE_ERR_UNAUTHORIZED', 'an admin token is required: Authorization: Bearer <token>');
  }
}
