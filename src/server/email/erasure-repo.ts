/**
 * @module
 * SQL for erasure: one-time confirmations and the requests (`email_erasure_*`, 004-email.sql).
 */
import type { Queryable } from '../db/db.ts';

export interface ErasureRequest {
  id: number;
  siteId: string;
  subjectId: string;
  requestedAt: number;
  via: 'email-link' | 'api';
  status: 'pending' | 'done';
  completedAt: number | null;
  result: Record<string, number> | null;
}

export async function insertConfirmation(
  q: Queryable,
  c: { nonce: string; siteId: string; subjectId: string; now: number; expiresAt: number },
): Promise<void> {
  await q.query(
    `INSERT INTO email_erasure_confirmations (nonce, site_id, subject_id, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [c.nonce, c.siteId, c.subjectId, c.now, c.expiresAt],
  );
}

/** Whether this person's confirmation was used already (it produced their request). */
export async function confirmationWasUsed(
  q: Queryable,
  c: { nonce: string; siteId: string; subjectId: string },
): Promise<boolean> {
  const res = await q.query(
    `SELECT 1 FROM email_erasure_confirmations
     WHERE nonce = $1 AND site_id = $2 AND subject_id = $3 AND used_at IS NOT NULL`,
    [c.nonce, c.siteId, c.subjectId],
  );
  return res.rows.length === 1;
}

/** Marks a confirmation used; false when it is unknown, someone else's, expired or already used. */
export async function useConfirmation(
  q: Queryable,
  c: { nonce: string; siteId: string; subjectId: string; now: number },
): Promise<boolean> {
  const res = await q.query(
    `UPDATE email_erasure_confirmations SET used_at = $4
     WHERE nonce = $1 AND site_id = $2 AND subject_id = $3 AND used_at IS NULL AND expires_at > $4`,
    [c.nonce, c.siteId, c.subjectId, c.now],
  );
  return res.rowCount === 1;
}

const COLUMNS = `id, site_id AS "siteId", subject_id AS "subjectId", requested_at AS "requestedAt", via, status,
  completed_at AS "completedAt", result`;

type Raw = Omit<ErasureRequest, 'requestedAt' | 'completedAt' | 'id'> & {
  id: number | string;
  requestedAt: number | string;
  completedAt: number | string | null;
};
const toRequest = (r: Raw): ErasureRequest => ({
  ...r,
  id: Number(r.id),
  requestedAt: Number(r.requestedAt),
  completedAt: r.completedAt === null ? null : Number(r.completedAt),
});

/** Records a request; an open request of the same person is returned instead of a second one. */
export async function insertRequest(
  q: Queryable,
  r: { siteId: string; subjectId: string; now: number; via: ErasureRequest['via'] },
): Promise<ErasureRequest> {
  const inserted = await q.query<Raw>(
    `INSERT INTO email_erasure_requests (site_id, subject_id, requested_at, via) VALUES ($1, $2, $3, $4)
     ON CONFLICT (site_id, subject_id) WHERE status = 'pending' DO NOTHING RETURNING ${COLUMNS}`,
    [r.siteId, r.subjectId, r.now, r.via],
  );
  if (inserted.rows[0]) return toRequest(inserted.rows[0]);
  return (await openRequest(q, r.siteId, r.subjectId))!;
}

/** The person's request not carried out yet, or null. */
export async function openRequest(
  q: Queryable,
  siteId: string,
  subjectId: string,
): Promise<ErasureRequest | null> {
  const open = await q.query<Raw>(
    `SELECT ${COLUMNS} FROM email_erasure_requests WHERE site_id = $1 AND subject_id = $2 AND status = 'pending'`,
    [siteId, subjectId],
  );
  return open.rows[0] ? toRequest(open.rows[0]) : null;
}

/** Pending requests (oldest first), locked for this run; others running at once skip them. */
export async function claimPending(
  q: Queryable,
  siteId: string | null,
  limit: number,
): Promise<ErasureRequest[]> {
  const { rows } = await q.query<Raw>(
    `SELECT ${COLUMNS} FROM email_erasure_requests WHERE status = 'pending' AND ($1::text IS NULL OR site_id = $1)
     ORDER BY requested_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [siteId, limit],
  );
  return rows.map(toRequest);
}

export async function completeRequest(
  q: Queryable,
  id: number,
  now: number,
  result: Record<string, number>,
): Promise<void> {
  await q.query(
    `UPDATE email_erasure_requests SET status = 'done', completed_at = $2, result = $3 WHERE id = $1`,
    [id, now, JSON.stringify(result)],
  );
}

export async function listRequests(
  q: Queryable,
  siteId: string,
  opts: { status?: string; subjectId?: string; limit: number },
): Promise<ErasureRequest[]> {
  const { rows } = await q.query<Raw>(
    `SELECT ${COLUMNS} FROM email_erasure_requests WHERE site_id = $1 AND ($2::text IS NULL OR status = $2)
     AND ($3::text IS NULL OR subject_id = $3) ORDER BY id DESC LIMIT $4`,
    [siteId, opts.status ?? null, opts.subjectId ?? null, opts.limit],
  );
  return rows.map(toRequest);
}

/** Removes what erasure removes besides contact data: page sessions and unused confirmations. */
export async function deleteSubjectEmailData(q: Queryable, siteId: string, subjectId: string) {
  const sessions = await q.query('DELETE FROM email_sessions WHERE site_id = $1 AND subject_id = $2', [
    siteId,
    subjectId,
  ]);
  await q.query('DELETE FROM email_erasure_confirmations WHERE site_id = $1 AND subject_id = $2', [
    siteId,
    subjectId,
  ]);
  return { sessions: sessions.rowCount };
}
