import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInterceptionRoot, loadInterceptionRoots, type InterceptionRoot } from '@steppe/shared';
import { makeInterceptionPki, type InterceptionPki } from './helpers/pki.js';

// findInterceptionRoot remembers what each certificate was found to be (by
// DER digest, per list of roots): the answers must stay those of a fresh
// look, whichever list is asked and in whatever order.
let pki: InterceptionPki;
let stateRoots: InterceptionRoot[];
let honestRoots: InterceptionRoot[];

beforeAll(() => {
  pki = makeInterceptionPki();
  stateRoots = loadInterceptionRoots([pki.stateRoot.pem]);
  honestRoots = loadInterceptionRoots([pki.honestRoot.pem]);
});
afterAll(() => pki.cleanup());

describe('findInterceptionRoot on certificates met again', () => {
  it('gives the same answer every time a chain is seen', () => {
    const chain = [pki.leafViaIntermediate.der, pki.intermediate.der];
    for (let i = 0; i < 3; i += 1) {
      expect(findInterceptionRoot(chain, stateRoots)).toMatchObject({ kind: 'signature', chainIndex: 1, issuerCn: 'Lab State Root' });
      expect(findInterceptionRoot([pki.leafViaForged.der, pki.forgedRoot.der], stateRoots)).toBeUndefined();
    }
  });

  it('answers for the list of roots it is given, not one asked before', () => {
    const chain = [pki.leafViaRoot.der];
    expect(findInterceptionRoot(chain, stateRoots)).toMatchObject({ kind: 'signature' });
    expect(findInterceptionRoot(chain, honestRoots)).toBeUndefined();
    expect(findInterceptionRoot([pki.honestLeaf.der], honestRoots)).toMatchObject({ kind: 'signature', issuerCn: 'Lab Honest Root' });
    expect(findInterceptionRoot([pki.honestLeaf.der], stateRoots)).toBeUndefined();
    expect(findInterceptionRoot(chain, [...honestRoots, ...stateRoots])).toMatchObject({ kind: 'signature', issuerCn: 'Lab State Root' });
  });

  it('sees a list of roots changed since it was asked', () => {
    const roots = [...stateRoots];
    const chain = [pki.leafViaRoot.der];
    expect(findInterceptionRoot(chain, roots)).toMatchObject({ kind: 'signature' });
    const honest = honestRoots[0];
    expect(honest).toBeDefined();
    if (honest !== undefined) roots[0] = honest;
    expect(findInterceptionRoot(chain, roots)).toBeUndefined();
  });
});
