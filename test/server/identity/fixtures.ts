import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { canonicalJson } from '../../../src/protocol/canonical.ts';
import type { Receipt } from '../../../src/protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../../../src/protocol/version.ts';
import type { Queryable } from '../../../src/server/db/db.ts';

export const SITE = 'shop';
export const KID = 'k1';
export const SECRET = 'identity-secret-for-tests-0123456789abcdef';
export const PSEUDONYM_SECRET = 'pseudonym-secret-for-tests-0123456789abcdef';
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

export const deviceId = () => randomBytes(16).toString('hex');

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A JWT with any header and payload, HMAC-signed with `secret` (or with `signature` as given). */
export function craftToken(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret: string = SECRET,
  signature?: string,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signature ?? createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Valid claims at `now` (ms), with overrides. */
export function claims(now: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(now / 1000);
  return { sub: 'user-42', aud: SITE, iat, exp: iat + 300, jti: randomUUID(), ...over };
}

export function receipt(over: Partial<Receipt> = {}): Receipt {
  return {
    schema: RECEIPT_SCHEMA,
    receiptId: randomUUID(),
    siteId: SITE,
    deviceId: deviceId(),
    collectedAt: T0,
    revision: 'r1',
    noticeHash: `sha256:${'a'.repeat(64)}`,
    language: 'en',
    method: 'preferences',
    categories: { necessary: true, analytics: false },
    services: {},
    expiresAt: T0 + 180 * 86_400_000,
    previousReceiptId: null,
    ...over,
  };
}

/** Stores a receipt row as ingest would (contract columns; signature fields are placeholders here). */
export async function storeReceipt(q: Queryable, r: Receipt, receivedAt: number): Promise<void> {
  await q.query(
    `INSERT INTO receipts (receipt_id, site_id, device_id, method, collected_at, received_at, entry, leaf_hash, kid, sig)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'x', 'x', 'x')`,
    [
      r.receiptId,
      r.siteId,
      r.deviceId,
      r.method,
      r.collectedAt,
      receivedAt,
      canonicalJson({ receipt: r, receivedAt }),
    ],
  );
}
