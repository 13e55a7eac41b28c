/**
 * @module
 * SQL for what keeps identity safe across instances: the token replay list, fixed-window rate counters and
 * the audit log. All in the database, so every server instance shares them.
 */
import type { Queryable } from '../db/db.ts';

/** Records a token id; false when it was seen before (a replay). */
export async function rememberJti(
  q: Queryable,
  siteId: string,
  jtiHash: string,
  expiresAt: number,
): Promise<boolean> {
  const { rowCount } = await q.query(
    'INSERT INTO identity_jti (site_id, jti_hash, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [siteId, jtiHash, expiresAt],
  );
  return rowCount === 1;
}

/** Counts one hit in the window and returns the window's total (atomic across instances). */
export async function hitRate(q: Queryable, bucket: string, windowStart: number): Promise<number> {
  const { rows } = await q.query<{ hits: number }>(
    `INSERT INTO identity_rate (bucket, window_start, hits) VALUES ($1, $2, 1)
     ON CONFLICT (bucket, window_start) DO UPDATE SET hits = identity_rate.hits + 1 RETURNING hits`,
    [bucket, windowStart],
  );
  return rows[0]?.hits ?? 1;
}

export interface AuditEntry {
  at: number;
  siteId: string;
  deviceId: string | null;
  subjectId: string | null;
  action: 'identify' | 'forget' | 'pair-create' | 'pair-claim' | 'unlink';
  outcome: 'ok' | 'refused';
  reason: string | null;
}

export async function writeAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await q.query(
    `INSERT INTO identity_audit (at, site_id, device_id, subject_id, action, outcome, reason)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [e.at, e.siteId, e.deviceId, e.subjectId, e.action, e.outcome, e.reason],
  );
}

/** Deletes expired replay entries, pairing codes and rate windows; returns rows removed. */
export async function pruneExpired(q: Queryable, now: number, oldestWindow: number): Promise<number> {
  const a = await q.query('DELETE FROM identity_jti WHERE expires_at < $1', [now]);
  const b = await q.query('DELETE FROM pairing_codes WHERE expires_at < $1', [now]);
  const c = await q.query('DELETE FROM identity_rate WHERE window_start < $1', [oldestWindow]);
  return a.rowCount + b.rowCount + c.rowCount;
}
