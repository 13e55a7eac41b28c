import type { SignedReceipt } from './api.ts';

/**
 * The transparency log's HTTP answers (docs/transparency.md). Hashes are lower-case hex SHA-256, except
 * inside `note`, whose format (c2sp.org/tlog-checkpoint) uses standard base64.
 */

/** GET /v1/log/:site/checkpoint: the latest signed head of a site's log. */
export interface CheckpointResponse {
  siteId: string;
  /** The log's name: first line of the note and the note's key name. */
  origin: string;
  treeSize: number;
  /** RFC 9162 root of the first `treeSize` leaves. */
  rootHash: string;
  /** Server time of the checkpoint, epoch ms (also in the note). */
  timestamp: number;
  /** Signing key id (GET /v1/keys). */
  kid: string;
  /** Base64url Ed25519 signature over the note text. */
  sig: string;
  /** The C2SP signed note: text, blank line, signature line. Self-contained: keep it to check the log later. */
  note: string;
}

/** GET /v1/receipts/:id/proof (200): the receipt, its leaf and its inclusion proof against a checkpoint. */
export interface ReceiptProofResponse {
  receiptId: string;
  siteId: string;
  leafIndex: number;
  leafHash: string;
  /** Sibling hashes from the leaf up to the root of `checkpoint` (RFC 9162 §2.1.3). */
  inclusionProof: string[];
  checkpoint: CheckpointResponse;
  /** The stored receipt with the server's signature. */
  signed: SignedReceipt;
}

/** GET /v1/receipts/:id/proof (202): stored and signed, not yet in a published checkpoint. */
export interface ReceiptProofPending {
  receiptId: string;
  siteId: string;
  status: 'pending';
  /** Seconds after which to ask again (also in `Retry-After`). */
  retryAfter: number;
}

/** GET /v1/log/:site/consistency?from=&to=: the tree of size `from` is a prefix of the tree of size `to`. */
export interface ConsistencyProofResponse {
  siteId: string;
  from: number;
  to: number;
  /** RFC 9162 §2.1.4 consistency proof. */
  consistencyProof: string[];
  /** The site's latest checkpoint (its size is at least `to`). */
  checkpoint: CheckpointResponse;
}
