/**
 * @module
 * SQL for pairing codes. Only the keyed hash of a code is stored; claiming is one conditional UPDATE, so a
 * code is used once even when two devices claim it at the same instant.
 */
import type { Queryable } from '../db/db.ts';

export async function insertPairingCode(
  q: Queryable,
  row: { codeHash: string; siteId: string; deviceId: string; createdAt: number; expiresAt: number },
): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO pairing_codes (code_hash, site_id, device_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
    [row.codeHash, row.siteId, row.deviceId, row.createdAt, row.expiresAt],
  );
  return rowCount === 1;
}

/** Marks a live, unclaimed code as claimed; returns the device that asked for it, or undefined. */
export async function claimPairingCode(
  q: Queryable,
  codeHash: string,
  siteId: string,
  claimedBy: string,
  now: number,
): Promise<string | undefined> {
  const { rows } = await q.query<{ deviceId: string }>(
    `UPDATE pairing_codes SET claimed_at = $4, claimed_by = $3
     WHERE code_hash = $1 AND site_id = $2 AND claimed_at IS NULL AND expires_at > $4 AND device_id <> $3
     RETURNING device_id AS "deviceId"`,
    [codeHash, siteId, claimedBy, now],
  );
  return rows[0]?.deviceId;
}
