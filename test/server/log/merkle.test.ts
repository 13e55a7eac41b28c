import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFrontier, type StoredNode } from '../../../src/server/log/frontier.ts';
import {
  consistencyProof,
  consistencyRanges,
  EMPTY_ROOT,
  type Hash,
  inclusionProof,
  inclusionRanges,
  leafHash,
  type NodeId,
  nodeHash,
  rangeNodes,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/server/log/merkle.ts';

// --- The RFC 9162 §2.1 definitions, written out literally over lists of data, as the reference. ---
const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Uint8Array.of(0), d[0]!);
  const s = k(d.length);
  return sha(Uint8Array.of(1), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s
    ? [...path(m, d.slice(0, s)), mth(d.slice(s))]
    : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s
    ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}
const proof = (m: number, d: Uint8Array[]) => subproof(m, d, true);
// ---

const data = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${i}`));
const hex = (hashes: readonly Uint8Array[]) => hashes.map((h) => Buffer.from(h).toString('hex'));

/** A full in-memory tree: every perfect subtree, as the log stores them. */
function memoryTree(leaves: Uint8Array[]) {
  const frontier = createFrontier();
  const nodes = new Map<string, Hash>();
  for (const leaf of leaves)
    for (const n of frontier.append(leafHash(leaf))) nodes.set(`${n.level}:${n.index}`, n.hash);
  const node = (id: NodeId) => {
    const h = nodes.get(`${id.level}:${id.index}`);
    if (!h) throw new Error(`missing node ${id.level}:${id.index}`);
    return h;
  };
  return { frontier, nodes, node };
}

describe('RFC 9162 hashing', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes; the empty root is SHA-256("")', () => {
    expect(Buffer.from(EMPTY_ROOT).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(Buffer.from(leafHash('')).toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const a = leafHash('a');
    const b = leafHash('b');
    expect(hex([nodeHash(a, b)])).toEqual(hex([sha(Uint8Array.of(1), a, b)]));
    expect(hex([leafHash('abc')])).toEqual(hex([sha(Uint8Array.of(0), new TextEncoder().encode('abc'))]));
  });

  it('computes a hand-built tree of 3 and 5 leaves', () => {
    const [l0, l1, l2, l3, l4] = data(5).map((d) => leafHash(d));
    const three = memoryTree(data(3));
    expect(hex([three.frontier.root()])).toEqual(hex([nodeHash(nodeHash(l0!, l1!), l2!)]));
    const five = memoryTree(data(5));
    const left = nodeHash(nodeHash(l0!, l1!), nodeHash(l2!, l3!));
    expect(hex([five.frontier.root()])).toEqual(hex([nodeHash(left, l4!)]));
    expect(hex(inclusionProof(4, 5, five.node))).toEqual(hex([left]));
    expect(hex(inclusionProof(2, 5, five.node))).toEqual(hex([l3!, nodeHash(l0!, l1!), l4!]));
    expect(hex(consistencyProof(3, 5, five.node))).toEqual(hex([l2!, l3!, nodeHash(l0!, l1!), l4!]));
  });

  it('matches the 7-leaf example of RFC 9162 §2.1.5 (proofs named a…l there)', () => {
    const t = memoryTree(data(7));
    const [a, b, c, d, e, f, j] = data(7).map((x) => leafHash(x));
    const g = nodeHash(a!, b!);
    const h = nodeHash(c!, d!);
    const i = nodeHash(e!, f!);
    const kk = nodeHash(g, h);
    const l = nodeHash(i, j!);
    expect(hex([t.frontier.root()])).toEqual(hex([nodeHash(kk, l)]));
    expect(hex(inclusionProof(0, 7, t.node))).toEqual(hex([b!, h, l]));
    expect(hex(inclusionProof(3, 7, t.node))).toEqual(hex([c!, g, l]));
    expect(hex(inclusionProof(4, 7, t.node))).toEqual(hex([f!, j!, kk]));
    expect(hex(inclusionProof(6, 7, t.node))).toEqual(hex([i, kk]));
    expect(hex(consistencyProof(3, 7, t.node))).toEqual(hex([c!, d!, g, l]));
    expect(hex(consistencyProof(4, 7, t.node))).toEqual(hex([l]));
    expect(hex(consistencyProof(6, 7, t.node))).toEqual(hex([i, j!, kk]));
  });

  it('splits right-edge ranges into perfect subtrees and refuses ranges that are no subtree', () => {
    expect(rangeNodes([8, 13])).toEqual([
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(rangeNodes([0, 7])).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(() => rangeNodes([1, 4])).toThrow(RangeError);
    expect(() => rangeNodes([3, 3])).toThrow(RangeError);
    expect(() => inclusionRanges(5, 5)).toThrow(RangeError);
    expect(() => consistencyRanges(6, 5)).toThrow(RangeError);
  });
});

describe('against the RFC reference, for every tree of 1 to 64 leaves', () => {
  const all = data(64);
  const trees = Array.from({ length: 65 }, (_, n) => (n === 0 ? undefined : memoryTree(all.slice(0, n))));

  it('roots, inclusion proofs and their verification', () => {
    for (let n = 1; n <= 64; n++) {
      const t = trees[n]!;
      const root = mth(all.slice(0, n));
      expect(hex([t.frontier.root()])).toEqual(hex([root]));
      expect(hex([rootHash(n, t.node)])).toEqual(hex([root]));
      for (let m = 0; m < n; m++) {
        const p = inclusionProof(m, n, t.node);
        expect(hex(p)).toEqual(hex(path(m, all.slice(0, n))));
        const leaf = leafHash(all[m]!);
        expect(verifyInclusion(m, n, leaf, p, root)).toBe(true);
        // Wrong index, wrong leaf, another root, truncated or extended proof: all rejected. (The size alone
        // is not bound by the proof: the signed checkpoint binds size and root together.)
        if (n > 1) expect(verifyInclusion((m + 1) % n, n, leaf, p, root)).toBe(false);
        expect(verifyInclusion(m, n, leafHash('other'), p, root)).toBe(false);
        if (n < 64) expect(verifyInclusion(m, n + 1, leaf, p, trees[n + 1]!.frontier.root())).toBe(false);
        if (p.length > 0) expect(verifyInclusion(m, n, leaf, p.slice(1), root)).toBe(false);
        expect(verifyInclusion(m, n, leaf, [...p, EMPTY_ROOT], root)).toBe(false);
      }
    }
  });

  it('consistency proofs and their verification', () => {
    for (let n = 1; n <= 64; n++) {
      const t = trees[n]!;
      const newRoot = t.frontier.root();
      for (let m = 1; m <= n; m++) {
        const p = consistencyProof(m, n, t.node);
        expect(hex(p)).toEqual(m === n ? [] : hex(proof(m, all.slice(0, n))));
        const oldRoot = trees[m]!.frontier.root();
        expect(verifyConsistency(m, n, oldRoot, newRoot, p)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, leafHash('x'), newRoot, p)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, leafHash('x'), p)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, p.slice(0, -1))).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, newRoot, [...p, EMPTY_ROOT])).toBe(false);
          if (m > 1) expect(verifyConsistency(m - 1, n, oldRoot, newRoot, p)).toBe(false);
        }
      }
      expect(verifyConsistency(0, n, EMPTY_ROOT, newRoot, [])).toBe(true);
    }
  });

  it('a frontier resumed from its stored nodes continues the same tree', () => {
    for (let n = 0; n <= 40; n++) {
      const t = trees[40]!;
      const head = n === 0 ? createFrontier() : trees[n]!.frontier;
      const resumed = createFrontier(
        n,
        head.nodes().map((x: StoredNode) => x.hash),
      );
      const made: StoredNode[] = [];
      for (let i = n; i < 40; i++) made.push(...resumed.append(leafHash(all[i]!)));
      expect(hex([resumed.root()])).toEqual(hex([t.frontier.root()]));
      for (const node of made) expect(hex([node.hash])).toEqual(hex([t.node(node)]));
    }
  });
});
