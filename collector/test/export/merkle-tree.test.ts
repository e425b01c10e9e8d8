import { describe, expect, it } from 'vitest';
import { MerkleAccumulator, auditPaths, leafHash, merkleRoot, nodeHash, rootFromAuditPath } from '../../src/export/merkle-tree.js';

// The Certificate Transparency test vectors (RFC 6962 trees): eight inputs
// and the published tree heads and an inclusion proof over them.
const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ROOT_1 = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d';
const ROOT_8 = '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328';
const PATH_0_OF_8 = [
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
  '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
];

/** MTH and PATH written as RFC 9162 §2.1 defines them, recursively. */
function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0] ?? Buffer.alloc(0);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}
function referencePath(m: number, leaves: readonly Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k ? [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))] : [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

const hex = (b: Buffer | undefined): string => b?.toString('hex') ?? '';

describe('RFC 9162 Merkle trees', () => {
  it('gives the published tree heads and inclusion proof', () => {
    const leaves = INPUTS.map(leafHash);
    expect(hex(merkleRoot([]))).toBe(EMPTY_ROOT);
    expect(hex(merkleRoot(leaves.slice(0, 1)))).toBe(ROOT_1);
    expect(hex(merkleRoot(leaves))).toBe(ROOT_8);
    const { root, paths } = auditPaths(leaves);
    expect(hex(root)).toBe(ROOT_8);
    expect(paths[0]?.map(hex)).toEqual(PATH_0_OF_8);
  });

  it('builds every tree shape as the recursive definition does, and every audit path leads to the root', () => {
    for (let n = 1; n <= 40; n += 1) {
      const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from([i, n])));
      const root = referenceRoot(leaves);
      const acc = new MerkleAccumulator();
      for (const leaf of leaves) acc.push(leaf);
      expect(hex(acc.root()), `n=${n}`).toBe(hex(root));
      expect(acc.size).toBe(n);
      const built = auditPaths(leaves);
      expect(hex(built.root)).toBe(hex(root));
      leaves.forEach((leaf, m) => {
        expect(built.paths[m]?.map(hex), `n=${n} m=${m}`).toEqual(referencePath(m, leaves).map(hex));
        expect(hex(rootFromAuditPath(leaf, m, n, built.paths[m] ?? [])), `n=${n} m=${m}`).toBe(hex(root));
      });
    }
  });

  it('rejects a path for another leaf or index, with a hash changed, or of the wrong length', () => {
    const leaves = Array.from({ length: 11 }, (_, i) => leafHash(Buffer.from([i])));
    const { root, paths } = auditPaths(leaves);
    const path = paths[5] ?? [];
    const leaf = leaves[5] ?? Buffer.alloc(0);
    expect(hex(rootFromAuditPath(leaf, 5, 11, path))).toBe(hex(root));
    expect(hex(rootFromAuditPath(leaves[6] ?? leaf, 5, 11, path))).not.toBe(hex(root));
    expect(hex(rootFromAuditPath(leaf, 4, 11, path))).not.toBe(hex(root));
    const changed = path.map((p, i) => (i === 1 ? Buffer.from(p).fill(0) : p));
    expect(hex(rootFromAuditPath(leaf, 5, 11, changed))).not.toBe(hex(root));
    expect(rootFromAuditPath(leaf, 11, 11, path)).toBeUndefined();
    expect(rootFromAuditPath(leaf, 5, 11, [...path, root])).toBeUndefined();
  });

  it('gives the root over every leaf from the roots of pages of 2^k leaves, the last one shorter', () => {
    for (const page of [1, 2, 4, 8]) {
      for (let n = 1; n <= 37; n += 1) {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from([i])));
        const pages = new MerkleAccumulator();
        for (let at = 0; at < n; at += page) pages.push(merkleRoot(leaves.slice(at, at + page)));
        expect(hex(pages.root()), `page ${page}, n=${n}`).toBe(hex(merkleRoot(leaves)));
      }
    }
  });
});
