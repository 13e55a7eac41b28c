/**
 * @module
 * SQL for device → subject links (`identity_links`). One row per (site, device): the primary key is what
 * guarantees a device never has two subjects, whatever the interleaving of concurrent requests.
 */
import type { Queryable } from '../db/db.ts';

export interface LinkRow {
  siteId: string;
  deviceId: string;
  subjectId: string;
  via: 'token' | 'pairing';
  browser: string;
  linkedAt: number;
  firstSeen: number;
  lastSeen: number;
}

/** Advisory-lock namespace of per-device locks; the receipts trigger in 003-identity.sql takes the same. */
const DEVICE_LOCK_SEED = 727003;

const COLUMNS = `site_id AS "siteId", device_id AS "deviceId", subject_id AS "subjectId", via, browser,
  linked_at AS "linkedAt", first_seen AS "firstSeen", last_seen AS "lastSeen"`;

/**
 * Locks the devices (sorted, so two transactions locking overlapping sets cannot deadlock) until the end of
 * the transaction. Linking and the receipts trigger both take it: see 003-identity.sql.
 */
export async function lockDevices(
  tx: Queryable,
  siteId: string,
  deviceIds: readonly string[],
): Promise<void> {
  for (const deviceId of [...new Set(deviceIds)].sort()) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, $2))', [
      `${siteId}:${deviceId}`,
      DEVICE_LOCK_SEED,
    ]);
  }
}

export async function findLink(q: Queryable, siteId: string, deviceId: string): Promise<LinkRow | undefined> {
  const { rows } = await q.query<LinkRow>(
    `SELECT ${COLUMNS} FROM identity_links WHERE site_id = $1 AND device_id = $2`,
    [siteId, deviceId],
  );
  return rows[0];
}

export async function listSubjectLinks(q: Queryable, siteId: string, subjectId: string): Promise<LinkRow[]> {
  const { rows } = await q.query<LinkRow>(
    `SELECT ${COLUMNS} FROM identity_links WHERE site_id = $1 AND subject_id = $2 ORDER BY first_seen, device_id`,
    [siteId, subjectId],
  );
  return rows;
}

/**
 * Links (or moves) a device to a subject in one statement. `first_seen` is the device's earliest receipt when
 * it has one. Returns the previous subject, if the device was linked to another one.
 */
export async function upsertLink(
  tx: Queryable,
  link: Omit<LinkRow, 'firstSeen' | 'lastSeen'> & { now: number },
): Promise<void> {
  await tx.query(
    `INSERT INTO identity_links (site_id, device_id, subject_id, via, browser, linked_at, first_seen, last_seen)
     VALUES ($1, $2, $3, $4, $5, $6,
       LEAST($6, COALESCE((SELECT min(received_at) FROM receipts WHERE site_id = $1 AND device_id = $2), $6)), $6)
     ON CONFLICT (site_id, device_id) DO UPDATE SET
       subject_id = EXCLUDED.subject_id, via = EXCLUDED.via, browser = EXCLUDED.browser,
       linked_at = CASE WHEN identity_links.subject_id = EXCLUDED.subject_id THEN identity_links.linked_at
                        ELSE EXCLUDED.linked_at END,
       last_seen = EXCLUDED.last_seen`,
    [link.siteId, link.deviceId, link.subjectId, link.via, link.browser, link.now],
  );
}

/**
 * Attaches the device's receipts made while it was not linked to the subject's history. Receipts made while
 * it was linked to another subject stay in that subject's history.
 */
export async function attachReceipts(
  tx: Queryable,
  siteId: string,
  deviceId: string,
  subjectId: string,
): Promise<number> {
  const { rowCount } = await tx.query(
    'UPDATE receipts SET subject_id = $3 WHERE site_id = $1 AND device_id = $2 AND subject_id IS NULL',
    [siteId, deviceId, subjectId],
  );
  return rowCount;
}

export async function deleteLink(
  tx: Queryable,
  siteId: string,
  deviceId: string,
): Promise<LinkRow | undefined> {
  const { rows } = await tx.query<LinkRow>(
    `DELETE FROM identity_links WHERE site_id = $1 AND device_id = $2 RETURNING ${COLUMNS}`,
    [siteId, deviceId],
  );
  return rows[0];
}

/**
 * Records that a linked device was seen (consent fetched, devices listed). At most once a minute per device:
 * a read path should not become a write per request.
 */
export async function touchLink(q: Queryable, siteId: string, deviceId: string, now: number): Promise<void> {
  await q.query(
    'UPDATE identity_links SET last_seen = $3 WHERE site_id = $1 AND device_id = $2 AND last_seen < $3::bigint - 60000',
    [siteId, deviceId, now],
  );
}
