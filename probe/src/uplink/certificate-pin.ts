import { createHash } from 'node:crypto';
import { UsageError } from '@steppe/shared';

/**
 * Parse certificate pins: SHA-256 of the collector's leaf certificate (DER),
 * as 64 hex digits (colons allowed, as `openssl x509 -fingerprint -sha256`
 * prints them) or base64. Pinning is on top of normal certificate checks,
 * never instead of them.
 */
export function parsePins(pins: readonly string[]): Buffer[] {
  return pins.map((pin) => {
    const hex = pin.replace(/:/g, '').trim();
    if (/^[0-9a-fA-F]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
    const b64 = pin.replace(/^sha256\//i, '').trim();
    const bytes = /^[A-Za-z0-9+/]{43}=?$/.test(b64) ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    if (bytes.length === 32) return bytes;
    throw new UsageError(`certificate pin ${JSON.stringify(pin)} is not a SHA-256 digest (64 hex digits or 44 base64 characters)`);
  });
}

/** True when the DER certificate's SHA-256 is one of the pins. */
export function matchesPin(certDer: Uint8Array, pins: readonly Buffer[]): boolean {
  const digest = createHash('sha256').update(certDer).digest();
  return pins.some((p) => p.equals(digest));
}
