/**
 * @module
 * A receipt as the server commits it: the leaf entry `{ receipt, receivedAt }` in canonical JSON, its RFC 9162
 * leaf hash and the server's Ed25519 signature over the entry's bytes (docs/protocol.md, "Signatures").
 */
import type { SignedReceipt } from '../../protocol/api.ts';
import { canonicalJson } from '../../protocol/canonical.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import type { ReceiptRow } from '../db/receipts-repo.ts';
import type { Keyring } from '../log/keys.ts';
import { leafHash } from '../log/merkle.ts';
import { signedReceiptJson } from '../log/wire.ts';

/**
 * Builds the row to commit for a validated receipt received at `receivedAt`, signed with the current key.
 * `canonical`, when the caller has it already, is `canonicalJson(receipt)`.
 */
export function buildReceiptRow(
  receipt: Receipt,
  receivedAt: number,
  keyring: Keyring,
  canonical?: string,
): ReceiptRow {
  // canonicalJson({ receipt, receivedAt }): "receipt" sorts before "receivedAt" ('p' < 'v').
  const entry =
    canonical === undefined
      ? canonicalJson({ receipt, receivedAt })
      : `{"receipt":${canonical},"receivedAt":${JSON.stringify(receivedAt)}}`;
  const { kid, sig } = keyring.sign(new TextEncoder().encode(entry));
  return {
    receiptId: receipt.receiptId,
    siteId: receipt.siteId,
    deviceId: receipt.deviceId,
    subjectId: null,
    method: receipt.method,
    collectedAt: receipt.collectedAt,
    receivedAt,
    entry,
    // RFC 9162 §2.1.1 leaf hash, SHA-256(0x00 || entry), the same function the log uses.
    leafHash: Buffer.from(leafHash(entry)).toString('hex'),
    kid,
    sig,
    leafIndex: null,
  };
}

/** The signed receipt handed back to the device, from a committed row: the log's wire form. */
export const signedReceiptOf = (row: ReceiptRow): SignedReceipt => signedReceiptJson(row);

/** The receipt part of a stored entry, canonical: what "the same body" means for idempotency. */
export function storedReceiptCanonical(row: ReceiptRow): string {
  return canonicalJson((JSON.parse(row.entry) as { receipt: unknown }).receipt);
}
