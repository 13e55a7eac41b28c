/**
 * @module
 * The right frontier of a Merkle tree (a "compact range"): the perfect subtrees of its first `size` leaves,
 * at most log2(size) hashes. Appending a leaf merges equal-sized subtrees; each merge is a new perfect
 * subtree, which the sequencer stores and `verify` compares. O(log n) memory whatever the tree size.
 */
import { EMPTY_ROOT, frontierNodes, type Hash, type NodeId, nodeHash } from './merkle.ts';

export interface StoredNode extends NodeId {
  hash: Hash;
}

export interface Frontier {
  readonly size: number;
  /** Appends one leaf hash; returns the perfect subtrees it completes: the leaf itself, then each merge. */
  append(leaf: Hash): StoredNode[];
  /** The RFC 9162 root of the leaves appended so far. */
  root(): Hash;
  /** The frontier's nodes, largest first (what `createFrontier` takes to resume). */
  nodes(): StoredNode[];
}

/**
 * A frontier resuming a tree of `size` leaves from the hashes of `frontierNodes(size)` (largest first).
 *
 * @example
 * const f = createFrontier();
 * for (const leaf of leaves) f.append(leaf);
 * f.root();
 */
export function createFrontier(size = 0, hashes: readonly Hash[] = []): Frontier {
  const ids = frontierNodes(size);
  if (ids.length !== hashes.length)
    throw new RangeError(`a tree of ${size} leaves has ${ids.length} frontier nodes, got ${hashes.length}`);
  const stack: StoredNode[] = ids.map((id, i) => ({ ...id, hash: hashes[i]! }));
  let count = size;
  return {
    get size() {
      return count;
    },
    append(leaf) {
      let top: StoredNode = { level: 0, index: count, hash: leaf };
      const made = [top];
      count++;
      for (let below = stack.at(-1); below && below.level === top.level; below = stack.at(-1)) {
        stack.pop();
        top = { level: top.level + 1, index: below.index / 2, hash: nodeHash(below.hash, top.hash) };
        made.push(top);
      }
      stack.push(top);
      return made;
    },
    root() {
      if (stack.length === 0) return EMPTY_ROOT;
      let hash = stack.at(-1)!.hash;
      for (let i = stack.length - 2; i >= 0; i--) hash = nodeHash(stack[i]!.hash, hash);
      return hash;
    },
    nodes: () => stack.map((n) => ({ ...n })),
  };
}
