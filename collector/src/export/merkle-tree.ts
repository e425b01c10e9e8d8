import { sha256 } from '@steppe/shared';

/**
 * Merkle tree hashes of RFC 9162 §2.1 (Certificate Transparency v2), the
 * tree the collector's export seals sign (docs/design/dd-006-collector-seals.md):
 * a leaf is SHA-256(0x00 || data), a node SHA-256(0x01 || left || right), and
 * a tree of n leaves splits at the largest power of two below n. Written out
 * here because the definitions are short and exactly specified, so anyone
 * can re-implement the check from the RFC.
 */

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);
const EMPTY = new Uint8Array(0);

const digest = (data: Uint8Array): Buffer => {
  const d = sha256(data);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};

/** SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  return digest(Buffer.concat([LEAF, data]));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return digest(Buffer.concat([NODE, left, right]));
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) over leaf hashes (RFC 9162 §2.1.1); the hash of the empty string for none. */
export function merkleRoot(leaves: readonly Uint8Array[]): Buffer {
  if (leaves.length === 0) return digest(EMPTY);
  const acc = new MerkleAccumulator();
  for (const leaf of leaves) acc.push(leaf);
  return acc.root();
}

/**
 * The root of a tree over `leaves` and every leaf's audit path (RFC 9162
 * §2.1.3.1), leaf level first: O(n) hashes for the whole tree.
 */
export function auditPaths(leaves: readonly Uint8Array[]): { root: Buffer; paths: Buffer[][] } {
  const paths: Buffer[][] = leaves.map(() => []);
  const build = (lo: number, hi: number): Buffer => {
    if (hi - lo === 1) return Buffer.from(leaves[lo] ?? new Uint8Array(0));
    const k = split(hi - lo);
    const left = build(lo, lo + k);
    const right = build(lo + k, hi);
    for (let i = lo; i < lo + k; i += 1) paths[i]?.push(right);
    for (let i = lo + k; i < hi; i += 1) paths[i]?.push(left);
    return nodeHash(left, right);
  };
  return { root: leaves.length === 0 ? digest(EMPTY) : build(0, leaves.length), paths };
}

/**
 * The root a leaf and its audit path lead to in a tree of `size` leaves
 * (RFC 9162 §2.1.3.2), or undefined when the path cannot belong to leaf
 * `index` of such a tree.
 */
export function rootFromAuditPath(leaf: Uint8Array, index: number, size: number, path: readonly Uint8Array[]): Buffer | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of path) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : undefined;
}

/**
 * MTH over leaves given one at a time, in O(log n) memory: the roots of the
 * perfect subtrees of the binary decomposition of n, folded from the right
 * (which is the RFC's split at the largest power of two). Given the roots of
 * consecutive subtrees of 2^k leaves each (the last one possibly smaller),
 * it gives the MTH over all their leaves: the RFC's splits of such a tree all
 * fall on subtree boundaries.
 */
export class MerkleAccumulator {
  readonly #hashes: Buffer[] = [];
  readonly #sizes: number[] = [];
  #count = 0;

  /** Leaves pushed so far. */
  get size(): number {
    return this.#count;
  }

  push(leaf: Uint8Array): void {
    let hash: Buffer = Buffer.from(leaf);
    let size = 1;
    while (this.#sizes.length > 0 && this.#sizes[this.#sizes.length - 1] === size) {
      this.#sizes.pop();
      hash = nodeHash(this.#hashes.pop() ?? Buffer.alloc(0), hash);
      size *= 2;
    }
    this.#hashes.push(hash);
    this.#sizes.push(size);
    this.#count += 1;
  }

  /** MTH of the leaves so far (the hash of the empty string for none). */
  root(): Buffer {
    let r = this.#hashes[this.#hashes.length - 1];
    if (r === undefined) return digest(EMPTY);
    for (let i = this.#hashes.length - 2; i >= 0; i -= 1) r = nodeHash(this.#hashes[i] ?? Buffer.alloc(0), r);
    return r;
  }
}
