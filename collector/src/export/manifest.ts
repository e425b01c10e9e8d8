import { keyFingerprint, signBytes, type SigningKeyPair } from '@steppe/shared';
import type { CanonicalQuery } from './query.js';

/** Name of the manifest file in a snapshot directory. */
export const MANIFEST_FILE = 'manifest.json';
/** Name of the detached signature: base64 of the ed25519 signature over manifest.json's exact bytes. */
export const SIGNATURE_FILE = 'manifest.sig';
/** Value of the manifest's `format` field. */
export const MANIFEST_FORMAT = 'steppe-snapshot';
/** Version of the manifest layout (2: the JSON Lines file's seal, `export_id` and `export_root`). */
export const MANIFEST_VERSION = 2;
/** Manifest versions `verify` reads. */
export const MANIFEST_VERSIONS_READ: readonly number[] = [1, 2];

/** One file of a snapshot, as the manifest lists it. */
export interface ManifestFile {
  /** A plain file name inside the snapshot directory. */
  readonly name: string;
  /** "jsonl", "csv" or "ooni.jsonl". */
  readonly format: string;
  /** "gzip" or "none". */
  readonly compression: string;
  readonly rows: number;
  readonly bytes: number;
  /** Lowercase hex SHA-256 of the file's bytes as written. */
  readonly sha256: string;
  /**
   * JSON Lines only (manifest version 2): the id of the export the
   * collector sealed its lines as (hex), and the RFC 9162 Merkle root over
   * their CollectorRecords (hex; null when the file has no line). The last
   * line's seal gives the same values, signed.
   */
  readonly export_id?: string;
  readonly export_root?: string | null;
}

/** The signed description of a dataset snapshot (docs/data-format.md). */
export interface SnapshotManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly manifest_version: number;
  readonly snapshot_id: string;
  readonly created_at: string;
  readonly collector: {
    readonly software_name: string;
    readonly software_version: string;
    readonly signature_algorithm: 'ed25519';
    /** base64 of the raw 32-byte public key the manifest is signed with. */
    readonly public_key: string;
    readonly key_fingerprint: string;
  };
  /** The filters, with `received_before` always set so the query can be rerun exactly. */
  readonly query: CanonicalQuery;
  readonly schema: {
    readonly wire_format: string;
    readonly steppe_jsonl_schema_version: number;
    readonly csv_columns_version: number;
    readonly ooni_data_format_version: string;
    readonly verdict_engine_version: string;
  };
  readonly row_count: number;
  readonly time_range: { readonly first_measurement: string | null; readonly last_measurement: string | null };
  readonly verdict_counts: Readonly<Record<string, number>>;
  readonly files: readonly ManifestFile[];
}

/** The exact bytes written to manifest.json (and signed): 2-space JSON and a final newline. */
export function serializeManifest(manifest: SnapshotManifest): Uint8Array {
  return new Uint8Array(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'));
}

/** The text of manifest.sig for the manifest's bytes. */
export function signManifest(bytes: Uint8Array, keys: SigningKeyPair): string {
  return `${Buffer.from(signBytes(keys.privateKey, bytes)).toString('base64')}\n`;
}

/** The collector block of a manifest for a key. */
export function collectorBlock(keys: SigningKeyPair, softwareName: string, softwareVersion: string): SnapshotManifest['collector'] {
  return {
    software_name: softwareName,
    software_version: softwareVersion,
    signature_algorithm: 'ed25519',
    public_key: Buffer.from(keys.publicKey).toString('base64'),
    key_fingerprint: keyFingerprint(keys.publicKey),
  };
}

/** True when `name` is a plain file name (no directory part, no traversal). */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\\') && name !== '.' && name !== '..' && !name.includes('\0');
}
