/**
 * @module
 * The access log: every admin read or export of a person's data, appended as a hash chain.
 *
 * Entry n stores `hash_n = SHA-256(hash_{n-1} ∥ "\n" ∥ canonicalJson(fields_n))` (hash_0 = 64 zeros), so editing,
 * deleting or reordering a row breaks every hash after it. A chain rewritten from the edit onwards would match
 * again, so at intervals the server signs the head (`seq`, `hash`) with its Ed25519 keyring (the same keys that
 * sign receipts, src/server/log/keys.ts): a rewrite or a truncation then contradicts a signed head. Retention
 * prunes only up to a signed head and keeps that head's entry, which anchors what remains.
 *
 * @example
 * const log = createAccessLog({ db, keyring });
 * await log.append({ actor, action: 'subject.export', siteId: 'shop', subjectId });
 * await log.signHead();
 * (await log.verify()).ok; // true
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../protocol/canonical.ts';
import type { Db, Queryable } from '../db/db.ts';
import type { Keyring } from '../log/keys.ts';
import type { AdminActor } from './admin-auth.ts';

/** Advisory lock serialising appends (and head signing) across instances: the chain has one order. */
const ACCESS_LOG_LOCK = 727_006;
export const GENESIS_HASH = '0'.repeat(64);
const HEAD_CONTEXT = 'assenso-access-log-head:v1\n';

export interface AccessLogEntry {
  seq: number;
  /** Server time, epoch ms. */
  at: number;
  keyId: string;
  role: string;
  /** What was done, e.g. `subject.export`, `contacts.read`, `access-log.query`. */
  action: string;
  siteId: string | null;
  subjectId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Extra facts about the access (never contact data itself). */
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AccessLogHead {
  seq: number;
  hash: string;
  signedAt: number;
  kid: string;
  sig: string;
}

export interface AccessLogQuery {
  subjectId?: string;
  siteId?: string;
  /** Inclusive lower bound, epoch ms. */
  from?: number;
  /** Exclusive upper bound, epoch ms. */
  to?: number;
  /** Only entries after this seq (pagination). */
  afterSeq?: number;
  /** At most this many (default 100, at most 1000). */
  limit?: number;
}

export interface AccessLogVerification {
  ok: boolean;
  entries: number;
  heads: number;
  firstSeq: number | null;
  lastSeq: number | null;
  /** The first entry (or head) that does not match, and why. */
  problem?: { seq: number; reason: string };
}

export interface AccessLog {
  /** Appends one entry (inside `tx` when given, so the read and its record commit together). */
  append(
    input: {
      actor: AdminActor;
      action: string;
      siteId?: string | null;
      subjectId?: string | null;
      detail?: Record<string, unknown>;
    },
    tx?: Queryable,
  ): Promise<AccessLogEntry>;
  query(q: AccessLogQuery): Promise<AccessLogEntry[]>;
  /** Signs the current head when entries were added since the last signed head; null otherwise. */
  signHead(): Promise<AccessLogHead | null>;
  heads(): Promise<AccessLogHead[]>;
  /** Walks the whole chain and every head; names the first thing that does not match. */
  verify(): Promise<AccessLogVerification>;
  /**
   * Deletes the entries before the newest signed head older than `before`, keeping the head's own entry as the
   * anchor of what remains (which therefore still verifies). Returns the number deleted.
   */
  prune(before: number, tx?: Queryable): Promise<number>;
}

interface Row {
  seq: number | string;
  at: number | string;
  key_id: string;
  role: string;
  action: string;
  site_id: string | null;
  subject_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: Record<string, unknown> | string;
  prev_hash: string;
  hash: string;
}
interface HeadRow {
  seq: number | string;
  hash: string;
  signed_at: number | string;
  kid: string;
  sig: string;
}

const toEntry = (r: Row): AccessLogEntry => ({
  seq: Number(r.seq),
  at: Number(r.at),
  keyId: r.key_id,
  role: r.role,
  action: r.action,
  siteId: r.site_id,
  subjectId: r.subject_id,
  ip: r.ip,
  userAgent: r.user_agent,
  detail: typeof r.detail === 'string' ? JSON.parse(r.detail) : r.detail,
  prevHash: r.prev_hash,
  hash: r.hash,
});
const toHead = (r: HeadRow): AccessLogHead => ({
  seq: Number(r.seq),
  hash: r.hash,
  signedAt: Number(r.signed_at),
  kid: r.kid,
  sig: r.sig,
});

/** The hash of an entry: covers the previous hash and every field but the hash itself. */
export function accessEntryHash(e: Omit<AccessLogEntry, 'hash'> & { hash?: string }): string {
  const { prevHash, hash: _hash, ...fields } = e;
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalJson(fields)}`, 'utf8')
    .digest('hex');
}

/** The bytes a head signature covers (domain-separated from receipts and checkpoints). */
export function accessHeadBytes(h: Pick<AccessLogHead, 'seq' | 'hash' | 'signedAt'>): Uint8Array {
  return new TextEncoder().encode(
    HEAD_CONTEXT + canonicalJson({ hash: h.hash, seq: h.seq, signedAt: h.signedAt }),
  );
}

const PAGE = 1000;

export function createAccessLog(deps: { db: Db; keyring?: Keyring; now?: () => number }): AccessLog {
  const { db } = deps;
  const now = deps.now ?? Date.now;

  async function lastEntry(tx: Queryable) {
    const { rows } = await tx.query<{ seq: number | string; hash: string }>(
      'SELECT seq, hash FROM access_log ORDER BY seq DESC LIMIT 1',
    );
    // Pruning always keeps the entry of a signed head, so the table is empty only before the first append.
    return rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS_HASH };
  }

  async function appendIn(tx: Queryable, input: Parameters<AccessLog['append']>[0]): Promise<AccessLogEntry> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [ACCESS_LOG_LOCK]);
    const last = await lastEntry(tx);
    const a = input.actor;
    const unhashed: Omit<AccessLogEntry, 'hash'> = {
      seq: last.seq + 1,
      at: now(),
      keyId: a.keyId,
      role: a.role,
      action: input.action,
      siteId: input.siteId ?? null,
      subjectId: input.subjectId ?? null,
      ip: a.ip,
      userAgent: a.userAgent,
      // Through JSON once, so that what is hashed is exactly what jsonb gives back later.
      detail: JSON.parse(JSON.stringify(input.detail ?? {})),
      prevHash: last.hash,
    };
    const entry = { ...unhashed, hash: accessEntryHash(unhashed) };
    await tx.query(
      `INSERT INTO access_log (seq, at, key_id, role, action, site_id, subject_id, ip, user_agent, detail, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        entry.seq,
        entry.at,
        entry.keyId,
        entry.role,
        entry.action,
        entry.siteId,
        entry.subjectId,
        entry.ip,
        entry.userAgent,
        JSON.stringify(entry.detail),
        entry.prevHash,
        entry.hash,
      ],
    );
    return entry;
  }

  async function* entriesInOrder(): AsyncGenerator<AccessLogEntry> {
    let after = -1;
    for (;;) {
      const { rows } = await db.query<Row>('SELECT * FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2', [
        after,
        PAGE,
      ]);
      for (const r of rows) yield toEntry(r);
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  return {
    append: (input, tx) => (tx ? appendIn(tx, input) : db.transaction((t) => appendIn(t, input))),

    async query(q) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace('?', `$${params.length}`));
      };
      if (q.subjectId) add('subject_id = ?', q.subjectId);
      if (q.siteId) add('site_id = ?', q.siteId);
      if (q.from !== undefined) add('at >= ?', q.from);
      if (q.to !== undefined) add('at < ?', q.to);
      if (q.afterSeq !== undefined) add('seq > ?', q.afterSeq);
      params.push(Math.min(Math.max(q.limit ?? 100, 1), 1000));
      const { rows } = await db.query<Row>(
        `SELECT * FROM access_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      return rows.map(toEntry);
    },

    async signHead() {
      const keyring = deps.keyring;
      if (!keyring) throw new Error('access log: signing heads needs the server keyring');
      return db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [ACCESS_LOG_LOCK]);
        const last = await lastEntry(tx);
        if (last.seq === 0) return null;
        const { rows } = await tx.query<{ n: number }>('SELECT 1 AS n FROM access_log_heads WHERE seq = $1', [
          last.seq,
        ]);
        if (rows[0]) return null;
        const signedAt = now();
        const { kid, sig } = keyring.sign(accessHeadBytes({ seq: last.seq, hash: last.hash, signedAt }));
        const head = { seq: last.seq, hash: last.hash, signedAt, kid, sig };
        await tx.query(
          'INSERT INTO access_log_heads (seq, hash, signed_at, kid, sig) VALUES ($1, $2, $3, $4, $5)',
          [head.seq, head.hash, head.signedAt, head.kid, head.sig],
        );
        return head;
      });
    },

    async heads() {
      const { rows } = await db.query<HeadRow>('SELECT * FROM access_log_heads ORDER BY seq');
      return rows.map(toHead);
    },

    async verify() {
      const heads = await this.heads();
      const result: AccessLogVerification = {
        ok: true,
        entries: 0,
        heads: heads.length,
        firstSeq: null,
        lastSeq: null,
      };
      const fail = (seq: number, reason: string) => {
        result.ok = false;
        result.problem = { seq, reason };
        return result;
      };
      if (deps.keyring) {
        for (const h of heads) {
          if (!deps.keyring.verify(h.kid, accessHeadBytes(h), h.sig))
            return fail(h.seq, `signed head at ${h.seq}: the signature does not match (key ${h.kid})`);
        }
      }
      const headAt = new Map(heads.map((h) => [h.seq, h]));
      let prev: { seq: number; hash: string } | null = null;
      for await (const e of entriesInOrder()) {
        if (prev === null) {
          result.firstSeq = e.seq;
          // The first remaining entry hangs off the genesis, or is the signed head retention pruned up to.
          if (e.seq === 1 && e.prevHash !== GENESIS_HASH) return fail(1, 'entry 1 does not start the chain');
          if (e.seq !== 1 && !headAt.has(e.seq))
            return fail(
              e.seq,
              `entries before ${e.seq} are missing and no signed head anchors entry ${e.seq}`,
            );
        } else {
          if (e.seq !== prev.seq + 1) return fail(prev.seq + 1, `entry ${prev.seq + 1} is missing`);
          if (e.prevHash !== prev.hash)
            return fail(e.seq, `entry ${e.seq} does not follow entry ${prev.seq}`);
        }
        if (accessEntryHash(e) !== e.hash)
          return fail(e.seq, `entry ${e.seq} was changed after it was written`);
        const head = headAt.get(e.seq);
        if (head && head.hash !== e.hash)
          return fail(e.seq, `entry ${e.seq} contradicts the head signed at ${e.seq}`);
        prev = { seq: e.seq, hash: e.hash };
        result.entries++;
      }
      result.lastSeq = prev?.seq ?? null;
      const newestHead = heads[heads.length - 1];
      if (newestHead && newestHead.seq > (prev?.seq ?? 0))
        return fail(newestHead.seq, `entries up to ${newestHead.seq} were signed but are missing`);
      return result;
    },

    async prune(before, tx) {
      const run = async (t: Queryable) => {
        await t.query('SELECT pg_advisory_xact_lock($1)', [ACCESS_LOG_LOCK]);
        const { rows } = await t.query<{ seq: number | string }>(
          `SELECT h.seq FROM access_log_heads h JOIN access_log e ON e.seq = h.seq
           WHERE e.at < $1 ORDER BY h.seq DESC LIMIT 1`,
          [before],
        );
        if (!rows[0]) return 0;
        // The head's own entry stays: it anchors what follows and proves nothing after it was cut.
        return (await t.query('DELETE FROM access_log WHERE seq < $1', [Number(rows[0].seq)])).rowCount;
      };
      return tx ? run(tx) : db.transaction(run);
    },
  };
}
