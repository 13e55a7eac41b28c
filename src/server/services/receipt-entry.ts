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

/** The leaf entry of a receipt received at `receivedAt`: canonical JSON of `{ receipt, receivedAt }`. */
function entryOf(receipt: Receipt, receivedAt: number, canonical?: string): string {
  // canonicalJson({ receipt, receivedAt }): "receipt" sorts before "receivedAt" ('p' < 'v').
  return canonical === undefined
    ? canonicalJson({ receipt, receivedAt })
    : `{"receipt":${canonical},"receivedAt":${JSON.stringify(receivedAt)}}`;
}

function rowOf(receipt: Receipt, receivedAt: number, entry: string, kid: string, sig: string): ReceiptRow {
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
  const entry = entryOf(receipt, receivedAt, canonical);
  const { kid, sig } = keyring.sign(new TextEncoder().encode(entry));
  return rowOf(receipt, receivedAt, entry, kid, sig);
}

/** `buildReceiptRow` for many receipts, signed together (`Keyring.signMany`): the same rows. */
export async function buildReceiptRows(
  items: readonly { receipt: Receipt; canonical?: string }[],
  receivedAt: number,
  keyring: Keyring,
): Promise<ReceiptRow[]> {
  const entries = items.map((i) => entryOf(i.receipt, receivedAt, i.canonical));
  const { kid, sigs } = await keyring.signMany(entries);
  return items.map((i, n) => rowOf(i.receipt, receivedAt, entries[n] as string, kid, sigs[n] as string));
}

/** The signed receipt handed back to the device, from a committed row: the log's wire form. */
export const signedReceiptOf = (row: ReceiptRow): SignedReceipt => signedReceiptJson(row);

/** The receipt part of a stored entry, canonical: what "the same body" means for idempotency. */
export function storedReceiptCanonical(row: ReceiptRow): string {
  return canonicalJson((JSON.parse(row.entry) as { receipt: unknown }).receipt);
}
