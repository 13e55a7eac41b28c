/**
 * @module
 * `assenso keys rotate`: re-encrypts contact data under the current key-encryption key, in batches.
 *
 * Without downtime: every batch is its own short transaction (rows locked only while they are rewritten), and
 * the running servers read both old and new values meanwhile. Resumable: each batch records its keyset cursor
 * in `contact_key_rotations` in the same transaction, so a crashed run continues where the last committed batch
 * ended. Idempotent: rows already under the current key are never selected. Values that cannot be decrypted
 * (retired or unknown key, tampered) are skipped, counted and reported by key id, never dropped.
 */
import type { Db } from '../db/db.ts';
import type { ContactCrypto } from './contact-crypto.ts';

export interface RotationProgress {
  rotationId: number;
  batches: number;
  rewrapped: number;
  unreadable: number;
}

export interface KeyCount {
  kid: string;
  count: number;
  /** `current`: encrypts now; `old`: still readable, to rotate; `retired` / `unknown`: unreadable here. */
  status: 'current' | 'old' | 'retired' | 'unknown';
}

export interface RotationReport extends RotationProgress {
  targetKid: string;
  /** Whether this run continued one that had stopped before finishing. */
  resumed: boolean;
  /** Values per key id after the run. */
  keys: KeyCount[];
  /** When `retire` was asked: whether no value is left under that key (it may then be removed). */
  retired?: { kid: string; remaining: number; done: boolean };
}

/** `--retire` named the current key: rotate to a new key first. */
export class RetireCurrentKeyError extends Error {
  override name = 'RetireCurrentKeyError';
}

interface ContactRow {
  site_id: string;
  subject_id: string;
  kind: string;
  value_enc: string;
}
interface RotationRow {
  id: number | string;
  cursor_site: string | null;
  cursor_subject: string | null;
  cursor_kind: string | null;
  batches: number;
  rewrapped: number;
  unreadable: number;
}

/** Counts contact values per key id and says which of them this instance can still read. */
export async function contactKeyCounts(
  db: Db,
  crypto: ContactCrypto,
  retired: readonly string[],
): Promise<KeyCount[]> {
  const { rows } = await db.query<{ key_id: string; n: number | string }>(
    'SELECT key_id, count(*) AS n FROM contacts GROUP BY key_id ORDER BY key_id',
  );
  return rows.map((r) => ({
    kid: r.key_id,
    count: Number(r.n),
    status:
      r.key_id === crypto.currentKid
        ? 'current'
        : crypto.canDecrypt(r.key_id)
          ? 'old'
          : retired.includes(r.key_id)
            ? 'retired'
            : 'unknown',
  }));
}

/**
 * Rotates every contact value to `crypto.currentKid`.
 *
 * @example
 * const report = await rotateContactKeys({ db, crypto, retired: keys.retired, batchSize: 500, retire: 'k2025' });
 * report.retired?.done; // true: no value left under k2025, remove it from ASSENSO_CONTACT_KEYS
 */
export async function rotateContactKeys(opts: {
  db: Db;
  crypto: ContactCrypto;
  /** Retired kids from the key configuration (for the report). */
  retired?: readonly string[];
  batchSize?: number;
  /** A key id to empty: the report says whether any value is left under it. */
  retire?: string;
  now?: () => number;
  /** Called after each committed batch (progress output; tests stop a run here to simulate a crash). */
  onBatch?: (progress: RotationProgress) => void | Promise<void>;
}): Promise<RotationReport> {
  const { db, crypto } = opts;
  const now = opts.now ?? Date.now;
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 10_000));
  const target = crypto.currentKid;
  if (opts.retire && opts.retire === target)
    throw new RetireCurrentKeyError(
      `"${target}" is the current key: make another key current before retiring it`,
    );

  const open = await db.query<RotationRow>(
    'SELECT * FROM contact_key_rotations WHERE target_kid = $1 AND finished_at IS NULL ORDER BY id DESC LIMIT 1',
    [target],
  );
  const resumed = open.rows[0] !== undefined;
  const row =
    open.rows[0] ??
    (
      await db.query<RotationRow>(
        'INSERT INTO contact_key_rotations (target_kid, retire_kid, started_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING *',
        [target, opts.retire ?? null, now()],
      )
    ).rows[0]!;
  const progress: RotationProgress = {
    rotationId: Number(row.id),
    batches: row.batches,
    rewrapped: row.rewrapped,
    unreadable: row.unreadable,
  };
  let cursor = row.cursor_site === null ? null : [row.cursor_site, row.cursor_subject, row.cursor_kind];

  for (;;) {
    const size = await db.transaction(async (tx) => {
      const { rows } = await tx.query<ContactRow>(
        `SELECT site_id, subject_id, kind, value_enc FROM contacts
         WHERE key_id <> $1 ${cursor ? 'AND (site_id, subject_id, kind) > ($3, $4, $5)' : ''}
         ORDER BY site_id, subject_id, kind LIMIT $2 FOR UPDATE`,
        cursor ? [target, batchSize, ...cursor] : [target, batchSize],
      );
      let rewrapped = 0;
      let unreadable = 0;
      for (const r of rows) {
        const aad = { siteId: r.site_id, subjectId: r.subject_id, field: r.kind };
        let fresh: string;
        try {
          fresh = crypto.encrypt(crypto.decrypt(r.value_enc, aad), aad);
        } catch {
          unreadable++;
          continue;
        }
        await tx.query(
          'UPDATE contacts SET value_enc = $4, key_id = $5 WHERE site_id = $1 AND subject_id = $2 AND kind = $3',
          [r.site_id, r.subject_id, r.kind, fresh, target],
        );
        rewrapped++;
      }
      const last = rows[rows.length - 1];
      if (last) cursor = [last.site_id, last.subject_id, last.kind];
      const done = rows.length < batchSize;
      await tx.query(
        `UPDATE contact_key_rotations SET cursor_site = $2, cursor_subject = $3, cursor_kind = $4,
           batches = batches + $5, rewrapped = rewrapped + $6, unreadable = unreadable + $7, updated_at = $8,
           finished_at = CASE WHEN $9::boolean THEN $8::bigint ELSE NULL END
         WHERE id = $1`,
        [
          progress.rotationId,
          ...(cursor ?? [null, null, null]),
          rows.length ? 1 : 0,
          rewrapped,
          unreadable,
          now(),
          done,
        ],
      );
      progress.batches += rows.length ? 1 : 0;
      progress.rewrapped += rewrapped;
      progress.unreadable += unreadable;
      return rows.length;
    });
    if (size > 0) await opts.onBatch?.({ ...progress });
    if (size < batchSize) break;
  }

  const keys = await contactKeyCounts(db, crypto, opts.retired ?? []);
  const report: RotationReport = { ...progress, targetKid: target, resumed, keys };
  if (opts.retire) {
    const remaining = keys.find((k) => k.kid === opts.retire)?.count ?? 0;
    report.retired = { kid: opts.retire, remaining, done: remaining === 0 };
  }
  return report;
}
