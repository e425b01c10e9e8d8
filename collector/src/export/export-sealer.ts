import { randomBytes } from 'node:crypto';
import { type SigningKeyPair, signBytes, verifyBytes, wire } from '@steppe/shared';
import { encodeCollectorRecord } from './collector-record.js';
import type { ProvenRow } from './export-row.js';
import { MerkleAccumulator, auditPaths, leafHash, merkleRoot } from './merkle-tree.js';
import type { CanonicalQuery } from './query.js';
import type { ProofMode } from './steppe-jsonl.js';

/**
 * The collector's seals over an export's lines (docs/design/dd-006-collector-seals.md).
 *
 * Each line's CollectorRecord (the fields the collector derived, bound to
 * the measurement's bytes) is a leaf; every page of up to SEAL_PAGE_LINES
 * consecutive lines gets one ed25519 signature over an ExportSeal naming
 * the export, the page's place and its RFC 9162 Merkle root. The last page's
 * seal also gives the row count and the root over every line of the export,
 * so a removed, added or moved line is detected. In a compact export the
 * seal is written on the last line of its page; with `proofs=full` every line
 * carries its page's seal and its audit path, so it verifies on its own.
 */

/**
 * Lines per sealed page: one signature per page, an audit path of log2(256) =
 * 8 hashes per line. A power of two, so that the root over every line is the
 * Merkle tree hash over the page roots (MerkleAccumulator).
 */
export const SEAL_PAGE_LINES = 256;

/** What the collector's key signs before a seal's bytes (domain separation from its other signatures). */
export const SEAL_CONTEXT = Buffer.from('steppe-export-seal-v1\0', 'latin1');

/** A decoded steppe.v1.ExportSeal. */
export type ExportSeal = InstanceType<typeof wire.ExportSeal>;

/** How an export is sealed. */
export interface SealOptions {
  readonly keys: SigningKeyPair;
  /** When the export was made (the collector's clock). */
  readonly createdMs: number;
  /** The export's filters (received_before pinned), named in the last seal. */
  readonly query?: CanonicalQuery;
  /** 16 bytes; random unless given (tests, or a caller that names the export first). */
  readonly exportId?: Uint8Array;
  /** Lines per page, a power of two (default SEAL_PAGE_LINES; 1 is a signature per line, which bench/export measures). */
  readonly pageLines?: number;
}

/** A row ready to be written, with its `collector_proof` as JSON text (undefined when the export is not sealed). */
export interface SealedRow {
  readonly row: ProvenRow;
  readonly collectorProof: string | undefined;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** The bytes the collector's key signs for a seal. */
export function sealSigningBytes(seal: Uint8Array): Uint8Array {
  return Buffer.concat([SEAL_CONTEXT, seal]);
}

/** Whether `signature` is the collector's (`publicKey`) over the seal's bytes. */
export function verifySealSignature(publicKey: Uint8Array, seal: Uint8Array, signature: Uint8Array): boolean {
  return verifyBytes(publicKey, sealSigningBytes(seal), signature);
}

/**
 * Seals an export's rows page by page, in order. `add` holds rows back until
 * their page is known to be complete and not the last (one row of
 * look-ahead), `finish` seals the last page. Without options it passes rows
 * through unsealed. One per export; not reentrant.
 */
export class ExportSealer {
  readonly exportId: Uint8Array;
  readonly #mode: ProofMode;
  readonly #options: SealOptions | undefined;
  readonly #pageLines: number;
  readonly #export = new MerkleAccumulator();
  #rows: ProvenRow[] = [];
  #records: Uint8Array[] = [];
  #page = 0;
  #lines = 0;
  #root: Buffer | undefined;

  constructor(mode: ProofMode, options?: SealOptions) {
    this.#mode = mode;
    this.#options = options;
    this.#pageLines = options?.pageLines ?? SEAL_PAGE_LINES;
    const p = this.#pageLines;
    if (!Number.isInteger(p) || p < 1 || p > 65_536 || (p & (p - 1)) !== 0) throw new RangeError(`pageLines: expected a power of two from 1 to 65536, got ${p}`);
    this.exportId = options?.exportId ?? randomBytes(16);
  }

  /** Lines sealed so far (all of them after `finish`). */
  get rowCount(): number {
    return this.#lines;
  }

  /** The Merkle root over every line, once `finish` ran on a sealed export with rows. */
  get exportRoot(): Buffer | undefined {
    return this.#root;
  }

  /** Take a row; returns the rows whose page is now sealed (usually none). */
  add(row: ProvenRow): SealedRow[] {
    if (this.#options === undefined) return [{ row, collectorProof: undefined }];
    const out = this.#rows.length >= this.#pageLines ? this.#seal(false) : [];
    this.#rows.push(row);
    this.#records.push(encodeCollectorRecord(row));
    return out;
  }

  /** Seal and return the rows held back: the export's last page. */
  finish(): SealedRow[] {
    if (this.#options === undefined || this.#rows.length === 0) return [];
    return this.#seal(true);
  }

  #seal(last: boolean): SealedRow[] {
    const options = this.#options;
    if (options === undefined) return [];
    const rows = this.#rows;
    const records = this.#records;
    this.#rows = [];
    this.#records = [];
    const leaves = records.map(leafHash);
    const full = this.#mode === 'full';
    const tree = full ? auditPaths(leaves) : { root: merkleRoot(leaves), paths: [] };
    // Pages hold 2^k lines, so the root over every line is the tree hash over the page roots.
    this.#export.push(tree.root);
    const firstLine = this.#lines;
    this.#lines += rows.length;
    const exportRoot = last ? this.#export.root() : undefined;
    if (exportRoot !== undefined) this.#root = exportRoot;
    const seal = wire.ExportSeal.encode({
      exportId: this.exportId,
      page: this.#page,
      firstLine,
      lineCount: rows.length,
      pageRoot: tree.root,
      createdMs: options.createdMs,
      ...(exportRoot === undefined ? {} : { last: true, rowCount: this.#lines, exportRoot, query: JSON.stringify(options.query ?? {}) }),
    }).finish();
    this.#page += 1;
    const signed = `"seal":"${b64(seal)}","signature":"${b64(signBytes(options.keys.privateKey, sealSigningBytes(seal)))}","public_key":"${b64(options.keys.publicKey)}"}`;
    // A page's audit paths share their nodes (the top one is in half the paths): base64 each once.
    const text = new Map<Buffer, string>();
    const node = (p: Buffer): string => {
      let t = text.get(p);
      if (t === undefined) {
        t = `"${b64(p)}"`;
        text.set(p, t);
      }
      return t;
    };
    return rows.map((row, i) => {
      const record = `{"record":"${b64(records[i] ?? new Uint8Array(0))}"`;
      if (full) {
        const path = (tree.paths[i] ?? []).map(node).join(',');
        return { row, collectorProof: `${record},"index":${i},"path":[${path}],${signed}` };
      }
      return { row, collectorProof: i === rows.length - 1 ? `${record},${signed}` : `${record}}` };
    });
  }
}
