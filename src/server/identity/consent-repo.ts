/**
 * @module
 * SQL for a subject's receipts (index `receipts_subject` in 003-identity.sql).
 */
import type { Queryable } from '../db/db.ts';
import type { SubjectReceipt } from './merge.ts';

/** Every receipt in the subject's history, oldest first (the signed entry holds the receipt). */
export async function subjectReceipts(
  q: Queryable,
  siteId: string,
  subjectId: string,
): Promise<SubjectReceipt[]> {
  const { rows } = await q.query<{ entry: string }>(
    `SELECT entry FROM receipts WHERE site_id = $1 AND subject_id = $2 ORDER BY received_at, receipt_id`,
    [siteId, subjectId],
  );
  return rows.map((r) => JSON.parse(r.entry) as SubjectReceipt);
}
