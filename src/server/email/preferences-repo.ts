/**
 * @module
 * SQL for communication preferences: the per-subject state (`email_preferences`, 004-email.sql), the subject's
 * receipts and the per-subject lock that orders a person's changes.
 */
import type { Queryable } from '../db/db.ts';
import type { ReceiptRow } from '../db/receipts-repo.ts';

/** One current decision of a subject for a purpose on a channel. */
export interface PreferenceRow {
  purpose: string;
  channel: string;
  /** As decided; a grant past `expiresAt` counts as denied (see effectiveGranted). */
  granted: boolean;
  receiptId: string;
  method: string;
  receivedAt: number;
  expiresAt: number;
}

interface RawPreference {
  subject_id?: string;
  purpose: string;
  channel: string;
  granted: boolean;
  receipt_id: string;
  method: string;
  received_at: number | string;
  expires_at: number | string;
}

const toRow = (r: RawPreference): PreferenceRow => ({
  purpose: r.purpose,
  channel: r.channel,
  granted: r.granted,
  receiptId: r.receipt_id,
  method: r.method,
  receivedAt: Number(r.received_at),
  expiresAt: Number(r.expires_at),
});

/**
 * Serialises a person's changes until the transaction ends: their state, their receipt chain and their webhook
 * queue then follow one order, whichever instance stores the change.
 */
export async function lockSubject(tx: Queryable, siteId: string, subjectId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 727004))', [`${siteId}:${subjectId}`]);
}

/** Upserts decisions; a stored decision is replaced only by one the server received later (or at once). */
export async function upsertPreferences(
  tx: Queryable,
  siteId: string,
  subjectId: string,
  rows: readonly PreferenceRow[],
): Promise<void> {
  for (const r of rows) {
    await tx.query(
      `INSERT INTO email_preferences (site_id, subject_id, purpose, channel, granted, receipt_id, method, received_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (site_id, subject_id, purpose, channel) DO UPDATE SET
         granted = EXCLUDED.granted, receipt_id = EXCLUDED.receipt_id, method = EXCLUDED.method,
         received_at = EXCLUDED.received_at, expires_at = EXCLUDED.expires_at
       WHERE email_preferences.received_at <= EXCLUDED.received_at`,
      [siteId, subjectId, r.purpose, r.channel, r.granted, r.receiptId, r.method, r.receivedAt, r.expiresAt],
    );
  }
}

/** A subject's current decisions. */
export async function subjectPreferences(
  q: Queryable,
  siteId: string,
  subjectId: string,
): Promise<PreferenceRow[]> {
  const { rows } = await q.query<RawPreference>(
    `SELECT purpose, channel, granted, receipt_id, method, received_at, expires_at FROM email_preferences
     WHERE site_id = $1 AND subject_id = $2 ORDER BY purpose, channel`,
    [siteId, subjectId],
  );
  return rows.map(toRow);
}

/**
 * Grants that expire at or before `due`, grouped by subject, subjects in id order after `after` (keyset
 * pagination): at most `limit` subjects.
 */
export async function expiringGrants(
  q: Queryable,
  siteId: string,
  due: number,
  opts: { after?: string; limit: number },
): Promise<Map<string, PreferenceRow[]>> {
  const { rows } = await q.query<RawPreference & { subject_id: string }>(
    `WITH subjects AS (
       SELECT DISTINCT subject_id FROM email_preferences
       WHERE site_id = $1 AND granted AND expires_at <= $2 AND subject_id > $3
       ORDER BY subject_id LIMIT $4)
     SELECT p.subject_id, p.purpose, p.channel, p.granted, p.receipt_id, p.method, p.received_at, p.expires_at
     FROM email_preferences p JOIN subjects s USING (subject_id)
     WHERE p.site_id = $1 AND p.granted AND p.expires_at <= $2
     ORDER BY p.subject_id, p.purpose, p.channel`,
    [siteId, due, opts.after ?? '', opts.limit],
  );
  const out = new Map<string, PreferenceRow[]>();
  for (const r of rows) {
    const list = out.get(r.subject_id) ?? [];
    list.push(toRow(r));
    out.set(r.subject_id, list);
  }
  return out;
}

/** The id of the subject's newest receipt (any method), to chain the next one to it. */
export async function lastSubjectReceiptId(
  q: Queryable,
  siteId: string,
  subjectId: string,
): Promise<string | null> {
  const { rows } = await q.query<{ receipt_id: string }>(
    `SELECT receipt_id FROM receipts WHERE site_id = $1 AND subject_id = $2
     ORDER BY received_at DESC, receipt_id DESC LIMIT 1`,
    [siteId, subjectId],
  );
  return rows[0]?.receipt_id ?? null;
}

/**
 * Attaches a receipt made outside a browser to its subject, with the salt of its signed `subjectCommitment`
 * (services/subject-commitment.ts): the columns are not part of the signed entry (001-receipts.sql), the
 * commitment is, and `verify` checks the two against it.
 */
export async function setReceiptSubject(
  tx: Queryable,
  receiptId: string,
  subjectId: string,
  salt: string,
): Promise<void> {
  await tx.query(
    'UPDATE receipts SET subject_id = $2, subject_salt = $3 WHERE receipt_id = $1 AND subject_id IS NULL',
    [receiptId, subjectId, salt],
  );
}

/** Every receipt of the subject, oldest first, as committed rows. */
export async function subjectReceiptRows(
  q: Queryable,
  siteId: string,
  subjectId: string,
): Promise<ReceiptRow[]> {
  const { rows } = await q.query<{
    receipt_id: string;
    device_id: string | null;
    method: string;
    collected_at: number | string;
    received_at: number | string;
    entry: string;
    leaf_hash: string;
    kid: string;
    sig: string;
    leaf_index: number | string | null;
  }>(
    `SELECT receipt_id, device_id, method, collected_at, received_at, entry, leaf_hash, kid, sig, leaf_index
     FROM receipts WHERE site_id = $1 AND subject_id = $2 ORDER BY received_at, receipt_id`,
    [siteId, subjectId],
  );
  return rows.map((r) => ({
    receiptId: r.receipt_id,
    siteId,
    deviceId: r.device_id,
    subjectId,
    method: r.method,
    collectedAt: Number(r.collected_at),
    receivedAt: Number(r.received_at),
    entry: r.entry,
    leafHash: r.leaf_hash,
    kid: r.kid,
    sig: r.sig,
    leafIndex: r.leaf_index === null ? null : Number(r.leaf_index),
  }));
}
