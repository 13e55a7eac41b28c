/**
 * @module
 * Proofs served from the stored subtrees: a receipt's inclusion proof against a signed checkpoint, and the
 * consistency proof between two sizes of a site's log. Each reads O(log n) stored hashes in one query.
 */
import type { Queryable } from '../db/db.ts';
import { type CheckpointRow, checkpointOfSize, latestCheckpoint } from './checkpoints-repo.ts';
import { type LeafRow, leafById } from './leaves-repo.ts';
import {
  consistencyRanges,
  type Hash,
  inclusionRanges,
  type LeafRange,
  type NodeId,
  nodesFor,
  rangeHash,
} from './merkle.ts';
import { findNodes, nodeKey } from './nodes-repo.ts';

/** No receipt has this id. */
export class UnknownReceiptError extends Error {
  override name = 'UnknownReceiptError';
}
/** The receipt is stored but not yet in a published checkpoint: ask again shortly. */
export class ProofPendingError extends Error {
  override name = 'ProofPendingError';
  constructor(readonly leaf: LeafRow) {
    super(`receipt ${leaf.receiptId} is not in a published checkpoint yet`);
  }
}
/** The site has no checkpoint (of the size asked for). */
export class UnknownCheckpointError extends Error {
  override name = 'UnknownCheckpointError';
}
/** Sizes that no proof can exist for (from > to, beyond the head). */
export class InvalidProofRequestError extends Error {
  override name = 'InvalidProofRequestError';
}

/** Reads subtree hashes, keeping those it has read (an export proves many leaves against one head). */
export function createNodeReader(db: Queryable) {
  const cache = new Map<string, Hash>();
  return async function hashesOf(siteId: string, ranges: readonly LeafRange[]): Promise<Hash[]> {
    const key = (id: NodeId) => `${siteId}/${nodeKey(id)}`;
    const missing = nodesFor(ranges).filter((id) => !cache.has(key(id)));
    if (missing.length > 0) {
      const found = await findNodes(db, siteId, missing);
      for (const id of missing) {
        const hash = found.get(nodeKey(id));
        if (!hash) throw new Error(`log of ${siteId}: stored node ${nodeKey(id)} is missing`);
        // Upper nodes are shared by every proof; leaves rarely are. A bound keeps a long export's memory flat.
        if (cache.size > 100_000) cache.clear();
        cache.set(key(id), hash);
      }
    }
    return ranges.map((r) => rangeHash(r, (id) => cache.get(key(id))!));
  };
}

export type NodeReader = ReturnType<typeof createNodeReader>;

export interface InclusionProof {
  leaf: LeafRow & { leafIndex: number };
  checkpoint: CheckpointRow;
  /** Sibling hashes from the leaf up (RFC 9162 §2.1.3). */
  proof: Hash[];
}

/** The inclusion proof of a leaf against a checkpoint. */
export async function proveLeaf(
  nodes: NodeReader,
  leaf: LeafRow & { leafIndex: number },
  checkpoint: CheckpointRow,
): Promise<InclusionProof> {
  const proof = await nodes(leaf.siteId, inclusionRanges(leaf.leafIndex, checkpoint.treeSize));
  return { leaf, checkpoint, proof };
}

/**
 * The inclusion proof of a receipt against the site's latest checkpoint, or the one of `treeSize` leaves.
 * Throws `UnknownReceiptError`, `ProofPendingError` or `UnknownCheckpointError`.
 */
export async function proveReceipt(
  db: Queryable,
  receiptId: string,
  opts: { treeSize?: number; nodes?: NodeReader } = {},
): Promise<InclusionProof> {
  const leaf = await leafById(db, receiptId);
  if (!leaf) throw new UnknownReceiptError(`no receipt ${receiptId}`);
  const checkpoint =
    opts.treeSize === undefined
      ? await latestCheckpoint(db, leaf.siteId)
      : await checkpointOfSize(db, leaf.siteId, opts.treeSize);
  if (opts.treeSize !== undefined && !checkpoint)
    throw new UnknownCheckpointError(`site ${leaf.siteId} has no checkpoint of size ${opts.treeSize}`);
  if (leaf.leafIndex === null || !checkpoint || leaf.leafIndex >= checkpoint.treeSize) {
    if (opts.treeSize !== undefined && leaf.leafIndex !== null)
      throw new InvalidProofRequestError(
        `leaf ${leaf.leafIndex} is not in the tree of size ${opts.treeSize}`,
      );
    throw new ProofPendingError(leaf);
  }
  return proveLeaf(opts.nodes ?? createNodeReader(db), { ...leaf, leafIndex: leaf.leafIndex }, checkpoint);
}

export interface ConsistencyProof {
  siteId: string;
  from: number;
  to: number;
  /** RFC 9162 §2.1.4 consistency proof from `from` to `to`. */
  proof: Hash[];
  /** The site's latest checkpoint, which covers both sizes. */
  checkpoint: CheckpointRow;
}

/** The consistency proof between two sizes of a site's log, both at most its latest checkpoint's size. */
export async function proveConsistency(
  db: Queryable,
  siteId: string,
  from: number,
  to?: number,
): Promise<ConsistencyProof> {
  const head = await latestCheckpoint(db, siteId);
  if (!head) throw new UnknownCheckpointError(`site ${siteId} has no checkpoint yet`);
  const end = to ?? head.treeSize;
  if (from > end) throw new InvalidProofRequestError(`from (${from}) is larger than to (${end})`);
  if (end > head.treeSize)
    throw new InvalidProofRequestError(`to (${end}) is beyond the latest checkpoint (size ${head.treeSize})`);
  const proof = await createNodeReader(db)(siteId, consistencyRanges(from, end));
  return { siteId, from, to: end, proof, checkpoint: head };
}
