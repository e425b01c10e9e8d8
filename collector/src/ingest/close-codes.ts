import type { ErrorCode } from '@steppe/shared';

/** WebSocket close codes (RFC 6455 §7.4.1) and the ones registered since. */
export const CLOSE = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * The close code that follows an Error frame with `code`; 0 means the
 * connection stays open. Stable: probes decide whether to back off on it.
 * An invalid measurement inside an authentic, well-signed batch rejects that
 * batch only (the probe sets the measurement aside and goes on); every
 * other refusal closes the connection.
 */
export function closeCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'STEPPE_ERR_MEASUREMENT_INVALID':
      return 0;
    case 'STEPPE_ERR_TOO_LARGE':
      return CLOSE.MESSAGE_TOO_BIG;
    case 'STEPPE_ERR_RATE_LIMITED':
    case 'STEPPE_ERR_STORAGE':
      return CLOSE.TRY_AGAIN_LATER;
    case 'STEPPE_ERR_SHUTTING_DOWN':
      return CLOSE.GOING_AWAY;
    case 'STEPPE_ERR_INTERNAL':
      return CLOSE.INTERNAL_ERROR;
    default:
      return CLOSE.POLICY_VIOLATION;
  }
}
