import { PUBLIC_KEY_BYTES, bytesEqual, idToString, keyFingerprint, sha256, wire } from '@steppe/shared';
import { COLLECTOR_COLUMN_KEYS, type CollectorRecord, recordJson } from './collector-record.js';
import { type ExportSeal, verifySealSignature } from './export-sealer.js';
import { MerkleAccumulator, leafHash, merkleRoot, rootFromAuditPath } from './merkle-tree.js';

/** What a snapshot's manifest says the JSON Lines file's seal must be. */
export interface ExpectedSeal {
  readonly exportId: string;
  readonly exportRoot: string | null;
  readonly rows: number;
}

/** Options of a SealChecker. */
export interface SealCheckOptions {
  /** The collector's key obtained independently; without it, the key the first seal names. */
  readonly publicKey?: Uint8Array;
  /** The file is an extract: check lines (or pages) on their own, not that the export is whole. */
  readonly partial?: boolean;
  readonly expected?: ExpectedSeal;
}

/** What the collector's seals proved about a file. */
export interface SealSummary {
  /** Lines whose CollectorRecord a verified seal covers and whose collector fields equal it. */
  readonly sealed: number;
  /** Fingerprint of the key the seals were checked with. */
  readonly keyFingerprint: string | undefined;
  readonly keySource: 'given' | 'file';
  /** Hex id of the export the seals name. */
  readonly exportId: string | undefined;
  /**
   * 'checked': the export's last seal (row count and Merkle root over every
   * line) is in the file and matched, so no line was removed, added or moved;
   * 'failed': it is there and did not match; 'partial': not asked for
   * (--partial); 'absent': the file has no last seal, so removed or moved
   * lines cannot be detected.
   */
  readonly completeness: 'checked' | 'failed' | 'partial' | 'absent';
  readonly rowCount: number | undefined;
  readonly exportRoot: string | undefined;
  /** Problems of the file as a whole, one sentence each. */
  readonly problems: readonly string[];
}

/** Reports a problem of one line, or of lines `line`..`lastLine`. */
export type SealFailure = (line: number, reason: string, lastLine?: number) => void;

interface CheckedSeal {
  readonly problem: string;
  readonly seal: ExportSeal | undefined;
}

interface OpenLine {
  readonly line: number;
  readonly leaf: Buffer | undefined;
  readonly ok: boolean;
}

const hex = (bytes: Uint8Array | null | undefined): string => (bytes === null || bytes === undefined ? '' : Buffer.from(bytes).toString('hex'));

function bytesOf(value: unknown): Uint8Array | undefined {
  return typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'base64')) : undefined;
}

/**
 * Checks the collector's seals of a Steppe JSON Lines file, line by line in
 * file order (export-sealer.ts, docs/design/dd-006-collector-seals.md):
 * each line's collector fields against its CollectorRecord, the record
 * against its measurement (id, SHA-256 of the bytes), each page's records
 * against the page's signed Merkle root (with the audit path in a full
 * export), the order of pages and lines, and at the end the row count and
 * the root over every line that the last seal gives.
 */
export class SealChecker {
  readonly #options: SealCheckOptions;
  readonly #fail: SealFailure;
  readonly #seals = new Map<string, CheckedSeal>();
  readonly #all = new MerkleAccumulator();
  readonly #problems: string[] = [];
  #key: Uint8Array | undefined;
  #exportId: string | undefined;
  #open: OpenLine[] = [];
  #index = 0;
  #sealed = 0;
  /** Export line the previous line was sealed as (-1 before the first). */
  #lastPosition = -1;
  #lastPage = -1;
  #lastSeal: ExportSeal | undefined;
  #lastSealIndex = -1;

  constructor(options: SealCheckOptions, fail: SealFailure) {
    this.#options = options;
    this.#fail = fail;
    this.#key = options.publicKey;
  }

  /**
   * Check one measurement line. `raw` is the measurement's bytes as the line
   * gives them (undefined when it gives none). Returns this line's own
   * problems; page-level ones go to the failure callback.
   */
  line(line: number, json: Record<string, unknown>, id: string, raw: Uint8Array | undefined): string[] {
    const index = this.#index;
    this.#index += 1;
    const reasons: string[] = [];
    const cp = json['collector_proof'];
    if (cp === null || typeof cp !== 'object' || Array.isArray(cp)) {
      this.#all.push(Buffer.alloc(32));
      this.#open.push({ line, leaf: undefined, ok: false });
      return [`no collector seal: ${COLLECTOR_COLUMN_KEYS.join(', ')} are covered by no signature`];
    }
    const proof = cp as Record<string, unknown>;
    const recordBytes = bytesOf(proof['record']);
    let record: CollectorRecord | undefined;
    try {
      if (recordBytes !== undefined) record = wire.CollectorRecord.decode(recordBytes);
    } catch {
      record = undefined;
    }
    if (recordBytes === undefined || record === undefined) {
      reasons.push('collector_proof.record is missing or does not decode');
    } else {
      if (idToString(record.measurementId) !== id) reasons.push(`the collector's record is of measurement ${idToString(record.measurementId)}, not ${id}`);
      if (raw !== undefined && !bytesEqual(sha256(raw), record.measurementSha256)) {
        reasons.push("the collector's record is of other measurement bytes than the line's");
      }
      const expected = recordJson(record);
      for (const key of COLLECTOR_COLUMN_KEYS) {
        const have = JSON.stringify(json[key] ?? null);
        const want = JSON.stringify(expected[key] ?? null);
        if (have !== want) reasons.push(`field "${key}" is ${have}, the collector signed ${want}`);
      }
    }
    const leaf = recordBytes === undefined ? undefined : leafHash(recordBytes);
    this.#all.push(leaf ?? Buffer.alloc(32));

    if (Array.isArray(proof['path'])) {
      // Full proofs: this line verifies on its own.
      const own = this.#fullLine(line, index, proof, leaf);
      if (own !== undefined) reasons.push(own);
      else if (reasons.length === 0) this.#sealed += 1;
      return reasons;
    }
    this.#open.push({ line, leaf, ok: reasons.length === 0 });
    if (proof['seal'] !== undefined) this.#closePage(proof, index);
    return reasons;
  }

  /** The file-level result, after the last line. */
  finish(): SealSummary {
    const open = this.#open;
    if (open.length > 0) {
      const first = open[0]?.line ?? 0;
      const last = open[open.length - 1]?.line ?? first;
      this.#fail(first, "no collector seal follows these lines (the file ends before their page's seal: it was cut)", last);
      this.#open = [];
    }
    let completeness: SealSummary['completeness'];
    const seal = this.#lastSeal;
    if (this.#options.partial === true) {
      completeness = 'partial';
    } else if (seal === undefined) {
      completeness = 'absent';
      this.#problems.push('the file holds no last seal (row count and root of the export): it was cut or is an extract, and removed, added or moved lines cannot be detected (--partial checks the lines on their own)');
    } else {
      const before = this.#problems.length;
      const rows = Number(seal.rowCount);
      if (rows !== this.#index) this.#problems.push(`the export has ${rows} lines, this file ${this.#index}: lines were removed or added`);
      else if (!bytesEqual(this.#all.root(), seal.exportRoot)) this.#problems.push('the lines are not those the collector sealed, in that order: the root over every line differs from the last seal\'s');
      else if (this.#lastSealIndex !== this.#index - 1) this.#problems.push('lines follow the export\'s last page');
      completeness = this.#problems.length === before ? 'checked' : 'failed';
    }
    const expected = this.#options.expected;
    if (expected !== undefined) {
      if (this.#exportId !== expected.exportId) this.#problems.push(`the lines are sealed as export ${this.#exportId ?? '(none)'}, the manifest names ${expected.exportId}`);
      if (seal !== undefined && hex(seal.exportRoot) !== (expected.exportRoot ?? '')) this.#problems.push('the root over the lines differs from the manifest\'s export_root');
    }
    const key = this.#key;
    return {
      sealed: this.#sealed,
      keyFingerprint: key !== undefined && key.length === PUBLIC_KEY_BYTES ? keyFingerprint(key) : undefined,
      keySource: this.#options.publicKey === undefined ? 'file' : 'given',
      exportId: this.#exportId,
      completeness,
      rowCount: seal === undefined ? undefined : Number(seal.rowCount),
      exportRoot: seal === undefined ? undefined : hex(seal.exportRoot),
      problems: this.#problems,
    };
  }

  #fullLine(line: number, index: number, proof: Record<string, unknown>, leaf: Buffer | undefined): string | undefined {
    const checked = this.#seal(proof);
    // Not the collector's seal for this export: the line is not taken to hold a place in it.
    if (checked.seal === undefined) return checked.problem;
    const seal = checked.seal;
    const at = proof['index'];
    const path = (proof['path'] as unknown[]).map(bytesOf);
    if (leaf === undefined || typeof at !== 'number' || path.some((p) => p === undefined)) return 'collector_proof.index or .path is malformed';
    const root = rootFromAuditPath(leaf, at, seal.lineCount, path as Uint8Array[]);
    this.#pageSeen(seal, index);
    if (root === undefined || !bytesEqual(root, seal.pageRoot)) {
      this.#lastPosition += 1; // taken to be in place, so that the next line is judged on its own
      return `the collector's seal (page ${seal.page}) does not cover this line's record`;
    }
    this.#position(line, Number(seal.firstLine) + at);
    return undefined;
  }

  #closePage(proof: Record<string, unknown>, index: number): void {
    const lines = this.#open;
    this.#open = [];
    const first = lines[0]?.line ?? 0;
    const last = lines[lines.length - 1]?.line ?? first;
    const checked = this.#seal(proof);
    const seal = checked.seal;
    if (seal === undefined) {
      this.#fail(first, checked.problem, last);
      return;
    }
    // The seal is the collector's: what it says of the export holds even when these lines do not match it.
    this.#pageSeen(seal, index);
    const leaves = lines.map((l) => l.leaf);
    let problem = '';
    if (seal.lineCount !== lines.length) {
      problem = `the collector sealed page ${seal.page} as ${seal.lineCount} lines, the file has ${lines.length} before its seal: lines were removed or added`;
    } else if (leaves.some((l) => l === undefined) || !bytesEqual(merkleRoot(leaves as Buffer[]), seal.pageRoot)) {
      problem = `the collector's seal (page ${seal.page}) does not match these lines' records: a record was edited, or lines were moved`;
    }
    if (problem !== '') {
      this.#fail(first, problem, last);
      this.#lastPosition = Number(seal.firstLine) + seal.lineCount - 1;
      return;
    }
    this.#position(first, Number(seal.firstLine));
    this.#lastPosition = Number(seal.firstLine) + seal.lineCount - 1;
    this.#sealed += lines.filter((l) => l.ok).length;
  }

  /** A seal's signature, key and export, checked once per distinct seal. */
  #seal(proof: Record<string, unknown>): CheckedSeal {
    const text = `${String(proof['seal'])}|${String(proof['signature'])}|${String(proof['public_key'])}`;
    const known = this.#seals.get(text);
    if (known !== undefined) return known;
    const result = this.#checkSeal(proof);
    this.#seals.set(text, result);
    return result;
  }

  #checkSeal(proof: Record<string, unknown>): CheckedSeal {
    const sealBytes = bytesOf(proof['seal']);
    const signature = bytesOf(proof['signature']);
    const key = bytesOf(proof['public_key']);
    if (sealBytes === undefined || signature === undefined || key === undefined) return { problem: 'collector_proof lacks seal, signature or public_key', seal: undefined };
    if (key.length !== PUBLIC_KEY_BYTES) return { problem: "the seal's public_key is not a 32-byte ed25519 key", seal: undefined };
    if (this.#key === undefined) this.#key = key;
    if (!bytesEqual(key, this.#key)) return { problem: `sealed with key ${keyFingerprint(key)}, not ${keyFingerprint(this.#key)}${this.#options.publicKey === undefined ? " (the file's first seal's)" : ' (the key given)'}`, seal: undefined };
    if (!verifySealSignature(key, sealBytes, signature)) return { problem: "the collector's signature does not verify over the seal", seal: undefined };
    let seal: ExportSeal;
    try {
      seal = wire.ExportSeal.decode(sealBytes);
    } catch {
      return { problem: 'the seal does not decode', seal: undefined };
    }
    const exportId = hex(seal.exportId);
    if (this.#exportId === undefined) this.#exportId = exportId;
    if (exportId !== this.#exportId) return { problem: `sealed as part of export ${exportId}, not ${this.#exportId}: lines of another export`, seal: undefined };
    return { problem: '', seal };
  }

  /** Lines must follow each other as the collector sealed them (unless --partial). */
  #position(line: number, position: number): void {
    if (this.#options.partial === true) return;
    const expected = this.#lastPosition + 1;
    if (position !== expected) {
      this.#fail(line, expected === 0
        ? `the file starts at line ${position + 1} of the export: earlier lines are missing`
        : `sealed as line ${position + 1} of the export, after a line sealed as line ${expected}: lines were removed, added or moved`);
    }
    this.#lastPosition = position;
  }

  #pageSeen(seal: ExportSeal, index: number): void {
    if (seal.page !== this.#lastPage) {
      if (this.#options.partial !== true && seal.page !== this.#lastPage + 1 && seal.page > this.#lastPage) {
        this.#problems.push(`page ${seal.page} follows page ${this.#lastPage}: pages are missing`);
      }
      this.#lastPage = seal.page;
    }
    if (seal.last) {
      this.#lastSeal = seal;
      this.#lastSealIndex = index;
    }
  }
}
