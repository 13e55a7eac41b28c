/**
 * @module
 * SQL the log runs over `receipts` (table of migrations/001-receipts.sql): finding unsequenced leaves, giving
 * them their index, and reading leaves back in log order for proofs, `verify` and `export`.
 */
import type { Queryable } from '../db/db.ts';

/** A receipt as the log sees it. */
export interface LeafRow {
  receiptId: string;
  siteId: string;
  deviceId: string | null;
  /** The person the receipt is attached to, and the salt of its signed `subjectCommitment` (not signed). */
  subjectId?: string | null;
  subjectSalt?: string | null;
  method: string;
  collectedAt: number;
  receivedAt: number;
  /** Canonical JSON of `{ receipt, receivedAt }`: the leaf data and the signed bytes. */
  entry: string;
  /** Hex SHA-256(0x00 || entry) as stored at ingest. */
  leafHash: string;
  kid: string;
  sig: string;
  leafIndex: number | null;
}

interface RawLeaf {
  receipt_id: string;
  site_id: string;
  device_id: string | null;
  subject_id: string | null;
  subject_salt: string | null;
  method: string;
  collected_at: number | string;
  received_at: number | string;
  entry: string;
  leaf_hash: string;
  kid: string;
  sig: string;
  leaf_index: number | string | null;
}

const COLUMNS =
  'receipt_id, site_id, device_id, subject_id, subject_salt, method, collected_at, received_at, entry, leaf_hash, kid, sig, leaf_index';

const toLeaf = (r: RawLeaf): LeafRow => ({
  receiptId: r.receipt_id,
  siteId: r.site_id,
  deviceId: r.device_id,
  subjectId: r.subject_id,
  subjectSalt: r.subject_salt,
  method: r.method,
  collectedAt: Number(r.collected_at),
  receivedAt: Number(r.received_at),
  entry: r.entry,
  leafHash: r.leaf_hash,
  kid: r.kid,
  sig: r.sig,
  leafIndex: r.leaf_index === null ? null : Number(r.leaf_index),
});

/** Sites with receipts waiting for a leaf index (reads only the small partial index of waiting rows). */
export async function sitesWithPendingLeaves(q: Queryable): Promise<string[]> {
  const res = await q.query<{ site_id: string }>(
    'SELECT DISTINCT site_id FROM receipts WHERE leaf_index IS NULL ORDER BY site_id',
  );
  return res.rows.map((r) => r.site_id);
}

/** The next receipts to sequence for a site, in log order: (received_at, receipt_id). */
export async function pendingLeaves(
  q: Queryable,
  siteId: string,
  limit: number,
): Promise<{ receiptId: string; leafHash: string | null; entry: string | null }[]> {
  // The leaf hash stored at ingest (64 bytes a row) instead of the entry (about 700): the sequencer does not
  // hash every entry again on the event loop. `verify` recomputes every leaf hash from its entry, so a
  // changed leaf_hash is caught there either way; a malformed one brings its entry, hashed as before.
  const res = await q.query<{ receipt_id: string; leaf_hash: string | null; entry: string | null }>(
    `SELECT receipt_id,
       CASE WHEN leaf_hash ~ '^[0-9a-f]{64}$' THEN leaf_hash END AS leaf_hash,
       CASE WHEN leaf_hash ~ '^[0-9a-f]{64}$' THEN NULL ELSE entry END AS entry
     FROM receipts WHERE site_id = $1 AND leaf_index IS NULL
     ORDER BY received_at, receipt_id LIMIT $2`,
    [siteId, limit],
  );
  return res.rows.map((r) => ({ receiptId: r.receipt_id, leafHash: r.leaf_hash, entry: r.entry }));
}

/** Gives receipts consecutive leaf indexes from `first`. Throws when one of them was sequenced meanwhile. */
export async function assignLeafIndexes(
  tx: Queryable,
  siteId: string,
  receiptIds: readonly string[],
  first: number,
): Promise<void> {
  if (receiptIds.length === 0) return;
  const res = await tx.query(
    `UPDATE receipts r SET leaf_index = v.idx
     FROM unnest($2::uuid[], $3::bigint[]) AS v(id, idx)
     WHERE r.receipt_id = v.id AND r.site_id = $1 AND r.leaf_index IS NULL`,
    [siteId, receiptIds, receiptIds.map((_, i) => first + i)],
  );
  if (res.rowCount !== receiptIds.length)
    throw new Error(
      `sequencing ${siteId}: ${receiptIds.length - res.rowCount} receipts changed under the sequencer`,
    );
}

/** One receipt by id. */
export async function leafById(q: Queryable, receiptId: string): Promise<LeafRow | undefined> {
  const res = await q.query<RawLeaf>(`SELECT ${COLUMNS} FROM receipts WHERE receipt_id = $1`, [receiptId]);
  return res.rows[0] && toLeaf(res.rows[0]);
}

/** Sequenced receipts of a site with leaf index > `after`, in index order (keyset pagination). */
export async function sequencedLeavesAfter(
  q: Queryable,
  siteId: string,
  after: number,
  limit: number,
): Promise<LeafRow[]> {
  const res = await q.query<RawLeaf>(
    `SELECT ${COLUMNS} FROM receipts WHERE site_id = $1 AND leaf_index > $2 ORDER BY leaf_index LIMIT $3`,
    [siteId, after, limit],
  );
  return res.rows.map(toLeaf);
}

/** Receipts of a site not sequenced yet, in the order they will be (keyset pagination on that order). */
export async function unsequencedLeavesAfter(
  q: Queryable,
  siteId: string,
  after: { receivedAt: number; receiptId: string } | undefined,
  limit: number,
): Promise<LeafRow[]> {
  const res = await q.query<RawLeaf>(
    `SELECT ${COLUMNS} FROM receipts
     WHERE site_id = $1 AND leaf_index IS NULL AND (received_at, receipt_id) > ($2, $3::uuid)
     ORDER BY received_at, receipt_id LIMIT $4`,
    [siteId, after?.receivedAt ?? -1, after?.receiptId ?? '00000000-0000-0000-0000-000000000000', limit],
  );
  return res.rows.map(toLeaf);
}

/**
 * Sequenced receipts of a site received in `[from, to)` (epoch ms) with leaf index > `after`, in log order.
 * Walks the (site_id, leaf_index) index, so paging through a whole site reads each row once.
 */
export async function sequencedLeavesReceivedBetween(
  q: Queryable,
  siteId: string,
  range: { from: number; to: number },
  after: number,
  limit: number,
): Promise<LeafRow[]> {
  const res = await q.query<RawLeaf>(
    `SELECT ${COLUMNS} FROM receipts
     WHERE site_id = $1 AND leaf_index > $2 AND received_at >= $3 AND received_at < $4
     ORDER BY leaf_index LIMIT $5`,
    [siteId, after, range.from, range.to, limit],
  );
  return res.rows.map(toLeaf);
}

/** Receipts of a site not sequenced yet and received in `[from, to)`, in the order they will be sequenced. */
export async function unsequencedLeavesReceivedBetween(
  q: Queryable,
  siteId: string,
  range: { from: number; to: number },
  after: { receivedAt: number; receiptId: string } | undefined,
  limit: number,
): Promise<LeafRow[]> {
  const res = await q.query<RawLeaf>(
    `SELECT ${COLUMNS} FROM receipts
     WHERE site_id = $1 AND leaf_index IS NULL AND received_at >= $2 AND received_at < $3
       AND (received_at, receipt_id) > ($4, $5::uuid)
     ORDER BY received_at, receipt_id LIMIT $6`,
    [
      siteId,
      range.from,
      range.to,
      after?.receivedAt ?? -1,
      after?.receiptId ?? '00000000-0000-0000-0000-000000000000',
      limit,
    ],
  );
  return res.rows.map(toLeaf);
}

/** Every site that has receipts (verify without `--site`). */
export async function sitesWithReceipts(q: Queryable): Promise<string[]> {
  // Loose index scan over receipts_device (site_id first): one probe per site instead of reading every row.
  const res = await q.query<{ site_id: string }>(
    `WITH RECURSIVE sites AS (
       (SELECT site_id FROM receipts ORDER BY site_id LIMIT 1)
       UNION ALL
       SELECT (SELECT r.site_id FROM receipts r WHERE r.site_id > s.site_id ORDER BY r.site_id LIMIT 1)
       FROM sites s WHERE s.site_id IS NOT NULL
     )
     SELECT site_id FROM sites WHERE site_id IS NOT NULL`,
  );
  return res.rows.map((r) => r.site_id);
}
