import { randomBytes, randomUUID } from 'node:crypto';
import { canonicalJson } from '../../../src/protocol/canonical.ts';
import type { Receipt } from '../../../src/protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../../../src/protocol/version.ts';
import type { Queryable } from '../../../src/server/db/db.ts';
import type { Keyring } from '../../../src/server/log/keys.ts';
import { leafHash } from '../../../src/server/log/merkle.ts';

/** A valid receipt (protocol schema) for `siteId`. */
export function makeReceipt(siteId: string, overrides: Partial<Receipt> = {}): Receipt {
  return {
    schema: RECEIPT_SCHEMA,
    receiptId: randomUUID(),
    siteId,
    deviceId: randomBytes(16).toString('hex'),
    collectedAt: 1_760_000_000_000,
    revision: '2026-01',
    noticeHash: `sha256:${'ab'.repeat(32)}`,
    language: 'it',
    method: 'accept-all',
    categories: { necessary: true, analytics: true },
    services: { matomo: true },
    expiresAt: 1_790_000_000_000,
    previousReceiptId: null,
    ...overrides,
  };
}

/**
 * Commits a receipt row as ingest does (contract: entry, leaf hash, signature; no leaf index yet) with raw
 * SQL, so these tests depend only on the `receipts` table.
 */
export async function insertReceipt(
  db: Queryable,
  keyring: Keyring,
  siteId: string,
  receivedAt: number,
  overrides: Partial<Receipt> = {},
): Promise<{
  receiptId: string;
  entry: string;
  leafHash: string;
  kid: string;
  sig: string;
  receivedAt: number;
}> {
  const receipt = makeReceipt(siteId, overrides);
  const entry = canonicalJson({ receipt, receivedAt });
  const { kid, sig } = keyring.sign(new TextEncoder().encode(entry));
  const hash = Buffer.from(leafHash(entry)).toString('hex');
  await db.query(
    `INSERT INTO receipts (receipt_id, site_id, device_id, method, collected_at, received_at, entry, leaf_hash, kid, sig)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      receipt.receiptId,
      siteId,
      receipt.deviceId,
      receipt.method,
      receipt.collectedAt,
      receivedAt,
      entry,
      hash,
      kid,
      sig,
    ],
  );
  return { receiptId: receipt.receiptId, entry, leafHash: hash, kid, sig, receivedAt };
}

/** Inserts `n` receipts received one millisecond apart from `start`. */
export async function insertReceipts(
  db: Queryable,
  keyring: Keyring,
  siteId: string,
  n: number,
  start = 1_760_000_000_000,
) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await insertReceipt(db, keyring, siteId, start + i));
  return out;
}
