/**
 * @module
 * Log rows → the JSON the API and `export` hand out (src/protocol/log.ts).
 */
import type { SignedReceipt } from '../../protocol/api.ts';
import type { CheckpointResponse, ReceiptProofResponse } from '../../protocol/log.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import type { CheckpointRow } from './checkpoints-repo.ts';
import type { LeafRow } from './leaves-repo.ts';
import type { Hash } from './merkle.ts';
import type { InclusionProof } from './proofs.ts';

/** Lower-case hex of a hash. */
export const hashHex = (h: Hash) => Buffer.from(h).toString('hex');

export function checkpointJson(c: CheckpointRow): CheckpointResponse {
  return {
    siteId: c.siteId,
    origin: c.origin,
    treeSize: c.treeSize,
    rootHash: c.rootHash,
    timestamp: c.createdAt,
    kid: c.kid,
    sig: c.sig,
    note: c.note,
  };
}

/** The stored receipt as the device got it back, with its leaf index once sequenced. */
export function signedReceiptJson(leaf: LeafRow): SignedReceipt {
  const { receipt, receivedAt } = JSON.parse(leaf.entry) as { receipt: Receipt; receivedAt: number };
  const signed: SignedReceipt = {
    receipt,
    receivedAt,
    leafHash: leaf.leafHash,
    signature: { alg: 'Ed25519', kid: leaf.kid, sig: leaf.sig },
  };
  if (leaf.leafIndex !== null) signed.leafIndex = leaf.leafIndex;
  return signed;
}

export function receiptProofJson(p: InclusionProof): ReceiptProofResponse {
  return {
    receiptId: p.leaf.receiptId,
    siteId: p.leaf.siteId,
    leafIndex: p.leaf.leafIndex,
    leafHash: p.leaf.leafHash,
    inclusionProof: p.proof.map(hashHex),
    checkpoint: checkpointJson(p.checkpoint),
    signed: signedReceiptJson(p.leaf),
  };
}
