/**
 * @module
 * SQL for `log_checkpoints`: the signed heads of each site's log (migrations/002-log.sql).
 */
import type { Queryable } from '../db/db.ts';

/** A stored checkpoint. */
export interface CheckpointRow {
  siteId: string;
  treeSize: number;
  /** Hex RFC 9162 root of the first `treeSize` leaves. */
  rootHash: string;
  /** Epoch ms, as in the signed note. */
  createdAt: number;
  origin: string;
  kid: string;
  /** Base64url Ed25519 signature over the note text. */
  sig: string;
  /** The complete signed note. */
  note: string;
}

interface RawCheckpoint {
  site_id: string;
  tree_size: number | string;
  root_hash: string;
  created_at: number | string;
  origin: string;
  kid: string;
  sig: string;
  note: string;
}

const COLUMNS = 'site_id, tree_size, root_hash, created_at, origin, kid, sig, note';

const toRow = (r: RawCheckpoint): CheckpointRow => ({
  siteId: r.site_id,
  treeSize: Number(r.tree_size),
  rootHash: r.root_hash,
  createdAt: Number(r.created_at),
  origin: r.origin,
  kid: r.kid,
  sig: r.sig,
  note: r.note,
});

export async function insertCheckpoint(tx: Queryable, c: CheckpointRow): Promise<void> {
  await tx.query(`INSERT INTO log_checkpoints (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
    c.siteId,
    c.treeSize,
    c.rootHash,
    c.createdAt,
    c.origin,
    c.kid,
    c.sig,
    c.note,
  ]);
}

/** The head of a site's log: the largest checkpoint, the newest of that size. */
export async function latestCheckpoint(q: Queryable, siteId: string): Promise<CheckpointRow | undefined> {
  const res = await q.query<RawCheckpoint>(
    `SELECT ${COLUMNS} FROM log_checkpoints WHERE site_id = $1 ORDER BY tree_size DESC, created_at DESC LIMIT 1`,
    [siteId],
  );
  return res.rows[0] && toRow(res.rows[0]);
}

/** The newest checkpoint of exactly `treeSize` leaves. */
export async function checkpointOfSize(
  q: Queryable,
  siteId: string,
  treeSize: number,
): Promise<CheckpointRow | undefined> {
  const res = await q.query<RawCheckpoint>(
    `SELECT ${COLUMNS} FROM log_checkpoints WHERE site_id = $1 AND tree_size = $2 ORDER BY created_at DESC LIMIT 1`,
    [siteId, treeSize],
  );
  return res.rows[0] && toRow(res.rows[0]);
}

/** Checkpoints of a site in (size, time) order after a given one: for `verify`, page by page. */
export async function checkpointsAfter(
  q: Queryable,
  siteId: string,
  after: { treeSize: number; createdAt: number } | undefined,
  limit: number,
): Promise<CheckpointRow[]> {
  const res = await q.query<RawCheckpoint>(
    `SELECT ${COLUMNS} FROM log_checkpoints
     WHERE site_id = $1 AND (tree_size, created_at) > ($2, $3)
     ORDER BY tree_size, created_at LIMIT $4`,
    [siteId, after?.treeSize ?? -1, after?.createdAt ?? -1, limit],
  );
  return res.rows.map(toRow);
}

/**
 * The head of every site that has a log. A loose index scan (one index probe per site) rather than
 * DISTINCT ON, which would read every checkpoint ever published.
 */
export async function latestCheckpoints(q: Queryable): Promise<CheckpointRow[]> {
  const res = await q.query<RawCheckpoint>(
    `WITH RECURSIVE sites AS (
       (SELECT site_id FROM log_checkpoints ORDER BY site_id LIMIT 1)
       UNION ALL
       SELECT (SELECT c.site_id FROM log_checkpoints c WHERE c.site_id > s.site_id ORDER BY c.site_id LIMIT 1)
       FROM sites s WHERE s.site_id IS NOT NULL
     )
     SELECT h.* FROM sites s CROSS JOIN LATERAL (
       SELECT ${COLUMNS} FROM log_checkpoints c WHERE c.site_id = s.site_id
       ORDER BY tree_size DESC, created_at DESC LIMIT 1
     ) h
     WHERE s.site_id IS NOT NULL`,
  );
  return res.rows.map(toRow);
}
