/**
 * @module
 * RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, proofs and their verification: pure functions.
 *
 * Proofs are first planned as lists of leaf ranges `[start, end)` (which subtrees the proof needs), then hashed
 * from perfect subtrees `(level, index)`: the node at level `l`, index `i` covers leaves
 * `[i·2^l, (i+1)·2^l)`. The log stores exactly those perfect subtrees as leaves are sequenced, so a proof needs
 * O(log n) stored hashes whatever the tree size. Sizes and indexes are plain numbers (exact below 2^53);
 * bit operations are avoided because JavaScript's are 32-bit.
 */
import { createHash } from 'node:crypto';

/** A 32-byte SHA-256 hash. */
export type Hash = Uint8Array;
/** Leaves `[start, end)` of one subtree of the RFC 9162 tree. */
export type LeafRange = readonly [start: number, end: number];
/** A perfect subtree: `2^level` leaves starting at leaf `index · 2^level`. */
export interface NodeId {
  level: number;
  index: number;
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** RFC 9162 §2.1.1: the hash of a leaf, SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array | string): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 9162 §2.1.1: the hash of an interior node, SHA-256(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** The root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Largest power of two strictly smaller than `n` (n ≥ 2): the RFC's split point `k`. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPowerOfTwo = (n: number) => n >= 1 && n === 2 ** Math.round(Math.log2(n));
const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function assertSize(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer`);
}

/** The ranges whose hashes form the inclusion proof of leaf `index` in a tree of `size` leaves (RFC 9162 §2.1.3.1). */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  assertSize('size', size);
  if (!Number.isSafeInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf index ${index} is outside a tree of ${size}`);
  const out: LeafRange[] = [];
  let start = 0;
  let end = size;
  // Walk down from the root; each step keeps the half holding the leaf and records the other half.
  // The RFC lists siblings from the leaf upwards, so prepend.
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (index < start + k) {
      out.unshift([start + k, end]);
      end = start + k;
    } else {
      out.unshift([start, start + k]);
      start += k;
    }
  }
  return out;
}

/** The ranges whose hashes form the consistency proof from size `m` to size `n` (RFC 9162 §2.1.4.1). */
export function consistencyRanges(m: number, n: number): LeafRange[] {
  assertSize('old size', m);
  assertSize('new size', n);
  if (m > n) throw new RangeError(`old size ${m} is larger than new size ${n}`);
  if (m === 0 || m === n) return [];
  const out: LeafRange[] = [];
  let start = 0;
  let end = n;
  let whole = true; // the RFC's `b`: true while the old tree is the left edge of the current subtree
  for (;;) {
    if (m === end) {
      if (!whole) out.unshift([start, end]);
      return out;
    }
    const k = splitPoint(end - start);
    if (m <= start + k) {
      out.unshift([start + k, end]);
      end = start + k;
    } else {
      out.unshift([start, start + k]);
      start += k;
      whole = false;
    }
  }
}

/**
 * The perfect subtrees that make up a range of the RFC tree, largest first. A right-edge subtree such as
 * leaves [8, 13) is 8–11 then 12. Throws on a range that is not a subtree of any RFC 9162 tree.
 */
export function rangeNodes([start, end]: LeafRange): NodeId[] {
  if (!(start >= 0 && end > start)) throw new RangeError(`empty leaf range [${start}, ${end})`);
  const out: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    while (at % (size * 2) === 0 && at + size * 2 <= end) size *= 2;
    const previous = out.at(-1);
    if (previous && 2 ** previous.level <= size)
      throw new RangeError(`[${start}, ${end}) is not a subtree of a Merkle tree`);
    out.push({ level: Math.log2(size), index: at / size });
    at += size;
  }
  return out;
}

/** The hash of a range from the hashes of its perfect subtrees (folded from the right, as the RFC splits). */
export function rangeHash(range: LeafRange, node: (id: NodeId) => Hash): Hash {
  const parts = rangeNodes(range);
  let hash = node(parts.at(-1)!);
  for (let i = parts.length - 2; i >= 0; i--) hash = nodeHash(node(parts[i]!), hash);
  return hash;
}

/** Every perfect subtree a list of ranges needs (deduplicated), to fetch them in one query. */
export function nodesFor(ranges: readonly LeafRange[]): NodeId[] {
  const seen = new Map<string, NodeId>();
  for (const r of ranges) for (const id of rangeNodes(r)) seen.set(`${id.level}:${id.index}`, id);
  return [...seen.values()];
}

/** The perfect subtrees of a tree of `size` leaves, largest first (its right frontier). */
export function frontierNodes(size: number): NodeId[] {
  return size === 0 ? [] : rangeNodes([0, size]);
}

/** The inclusion proof of leaf `index` in a tree of `size`, hashed from perfect subtrees. */
export function inclusionProof(index: number, size: number, node: (id: NodeId) => Hash): Hash[] {
  return inclusionRanges(index, size).map((r) => rangeHash(r, node));
}

/** The consistency proof from size `m` to size `n`, hashed from perfect subtrees. */
export function consistencyProof(m: number, n: number, node: (id: NodeId) => Hash): Hash[] {
  return consistencyRanges(m, n).map((r) => rangeHash(r, node));
}

/** The root of a tree of `size` leaves, hashed from perfect subtrees. */
export function rootHash(size: number, node: (id: NodeId) => Hash): Hash {
  return size === 0 ? EMPTY_ROOT : rangeHash([0, size], node);
}

/** RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` leaves with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Hash,
  proof: readonly Hash[],
  root: Hash,
): boolean {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size)) || index < 0 || index >= size)
    return false;
  let r = leaf;
  const sn = walkProof(
    index,
    size - 1,
    proof,
    (p) => {
      r = nodeHash(p, r);
    },
    (p) => {
      r = nodeHash(r, p);
    },
  );
  return sn === 0 && equalHashes(r, root);
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree (`m`, `oldRoot`) is a prefix of (`n`, `newRoot`). */
export function verifyConsistency(
  m: number,
  n: number,
  oldRoot: Hash,
  newRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (!(Number.isSafeInteger(m) && Number.isSafeInteger(n)) || m < 0 || m > n) return false;
  // Every tree extends the empty one; a tree is consistent with itself when the roots agree. The RFC's
  // algorithm covers 0 < m < n only, and requires a non-empty proof there.
  if (m === 0) return proof.length === 0;
  if (m === n) return proof.length === 0 && equalHashes(oldRoot, newRoot);
  if (proof.length === 0) return false;
  const path = isPowerOfTwo(m) ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  const end = walkProof(
    fn,
    sn,
    path.slice(1),
    (c) => {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    },
    (c) => {
      sr = nodeHash(sr, c);
    },
  );
  return end === 0 && equalHashes(fr, oldRoot) && equalHashes(sr, newRoot);
}

/**
 * The walk both RFC 9162 verifications share (§2.1.3.2 step 5, §2.1.4.2 step 6): for each proof hash, `left`
 * when it is the left sibling of the running hash, else `right`. Returns the final `sn` (0 when the proof had
 * the right length), or −1 when the proof is too long.
 */
function walkProof(
  fn: number,
  sn: number,
  path: readonly Hash[],
  left: (c: Hash) => void,
  right: (c: Hash) => void,
): number {
  for (const c of path) {
    if (sn === 0) return -1;
    if (isOdd(fn) || fn === sn) {
      left(c);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      right(c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn;
}

/** Constant-time comparison is not needed (hashes are public); this is plain byte equality. */
export function equalHashes(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
