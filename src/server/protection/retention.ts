/**
 * @module
 * Enforces the retention policy: `assenso retention run` and the server's schedule call `run()`.
 *
 * One run at a time across instances (`pg_try_advisory_xact_lock`: a second instance skips instead of
 * waiting); the whole run is one transaction, so it removes everything that is due or nothing. Every run is
 * recorded in `retention_runs` with the policy it applied and what it removed per kind. A dry run does the
 * same work, reports the same counts, and rolls back. Rules whose table does not exist are skipped, so the
 * policy works whatever parts of the server are installed.
 */
import type { Db, Queryable } from '../db/db.ts';
import type { AccessLog } from './access-log.ts';
import { RETENTION_KINDS, type RetentionKind, type RetentionPolicy } from './retention-policy.ts';

const RETENTION_LOCK = 727_016;
const DAY_MS = 86_400_000;

export interface RetentionRun {
  id: number;
  trigger: string;
  startedAt: number;
  finishedAt: number | null;
  dryRun: boolean;
  policy: RetentionPolicy;
  /** Rows removed (or detached, for receipts) per kind; kinds kept by the policy are absent. */
  results: Partial<Record<RetentionKind, number>>;
  error: string | null;
}

export interface Retention {
  /** Runs the policy once; null when another instance is running it right now. */
  run(opts: { trigger: 'schedule' | 'cli' | string; dryRun?: boolean }): Promise<RetentionRun | null>;
}

type Rule = (tx: Queryable, cutoff: number, now: number) => Promise<number>;

async function tableExists(tx: Queryable, table: string): Promise<boolean> {
  const { rows } = await tx.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  return rows[0]?.t != null;
}

const deleteWhere =
  (table: string, where: string): Rule =>
  async (tx, cutoff) => {
    if (!(await tableExists(tx, table))) return 0;
    return (await tx.query(`DELETE FROM ${table} WHERE ${where}`, [cutoff])).rowCount;
  };

const both =
  (...rules: Rule[]): Rule =>
  async (tx, cutoff, now) => {
    let n = 0;
    for (const r of rules) n += await r(tx, cutoff, now);
    return n;
  };

function rules(accessLog: AccessLog): Record<RetentionKind, Rule> {
  return {
    // Detach, never delete: the leaf and its signature stay, so every proof of the site's log still holds.
    receipts: async (tx, cutoff) => {
      if (!(await tableExists(tx, 'receipts'))) return 0;
      return (
        await tx.query(
          `UPDATE receipts r SET subject_id = NULL, subject_salt = NULL
           WHERE r.subject_id IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM receipts n
             WHERE n.site_id = r.site_id AND n.subject_id = r.subject_id AND n.received_at >= $1)`,
          [cutoff],
        )
      ).rowCount;
    },
    deviceLinks: deleteWhere('identity_links', 'last_seen < $1'),
    contactData: async (tx, cutoff, now) => {
      if (!(await tableExists(tx, 'contacts'))) return 0;
      // Contact data serves renewals: it stays while the person has a consent that is granted and current.
      const keep = (await tableExists(tx, 'email_preferences'))
        ? `AND NOT EXISTS (SELECT 1 FROM email_preferences p WHERE p.site_id = c.site_id
             AND p.subject_id = c.subject_id AND p.granted AND p.expires_at > $2)`
        : '';
      return (
        await tx.query(
          `DELETE FROM contacts c WHERE c.updated_at < $1 ${keep}`,
          keep ? [cutoff, now] : [cutoff],
        )
      ).rowCount;
    },
    accessLog: (tx, cutoff) => accessLog.prune(cutoff, tx),
    pairingCodes: deleteWhere('pairing_codes', 'expires_at < $1'),
    tokenReplay: deleteWhere('identity_jti', 'expires_at < $1'),
    rateLimits: deleteWhere('rate_limits', 'window_start < $1'),
    sessions: both(
      deleteWhere('email_sessions', 'expires_at < $1'),
      deleteWhere('email_erasure_confirmations', 'expires_at < $1'),
    ),
    identityAudit: deleteWhere('identity_audit', 'at < $1'),
    webhookDeliveries: deleteWhere('webhook_deliveries', "state <> 'pending' AND created_at < $1"),
    retentionRuns: deleteWhere('retention_runs', 'started_at < $1'),
  };
}

class DryRunRollback extends Error {
  constructor(readonly results: RetentionRun['results']) {
    super('dry run');
  }
}

interface RunRow {
  id: number | string;
  trigger: string;
  started_at: number | string;
  finished_at: number | string | null;
  dry_run: boolean;
  policy: RetentionPolicy | string;
  results: RetentionRun['results'] | string;
  error: string | null;
}
const parse = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
const toRun = (r: RunRow): RetentionRun => ({
  id: Number(r.id),
  trigger: r.trigger,
  startedAt: Number(r.started_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  dryRun: r.dry_run,
  policy: parse(r.policy),
  results: parse(r.results),
  error: r.error,
});

async function record(
  db: Queryable,
  run: { trigger: string; startedAt: number; finishedAt: number; dryRun: boolean; policy: RetentionPolicy },
  results: RetentionRun['results'],
  error: string | null,
): Promise<RetentionRun> {
  const { rows } = await db.query<RunRow>(
    `INSERT INTO retention_runs (trigger, started_at, finished_at, dry_run, policy, results, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [
      run.trigger,
      run.startedAt,
      run.finishedAt,
      run.dryRun,
      JSON.stringify(run.policy),
      JSON.stringify(results),
      error,
    ],
  );
  return toRun(rows[0]!);
}

/** The newest runs first. */
export async function listRetentionRuns(db: Queryable, limit = 20): Promise<RetentionRun[]> {
  const { rows } = await db.query<RunRow>('SELECT * FROM retention_runs ORDER BY id DESC LIMIT $1', [
    Math.min(Math.max(limit, 1), 500),
  ]);
  return rows.map(toRun);
}

/**
 * @example
 * const retention = createRetention({ db, policy: config.retention, accessLog });
 * const run = await retention.run({ trigger: 'cli', dryRun: true }); // run.results.deviceLinks === 12
 */
export function createRetention(deps: {
  db: Db;
  policy: RetentionPolicy;
  accessLog: AccessLog;
  now?: () => number;
}): Retention {
  const { db, policy } = deps;
  const now = deps.now ?? Date.now;
  const table = rules(deps.accessLog);
  return {
    async run({ trigger, dryRun = false }) {
      const startedAt = now();
      const meta = { trigger, startedAt, dryRun, policy };
      try {
        return await db.transaction(async (tx) => {
          const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [
            RETENTION_LOCK,
          ]);
          if (!rows[0]?.ok) return null;
          const results: RetentionRun['results'] = {};
          for (const kind of RETENTION_KINDS) {
            const d = policy[kind];
            if (d === null) continue;
            results[kind] = await table[kind](tx, startedAt - d * DAY_MS, startedAt);
          }
          if (dryRun) throw new DryRunRollback(results);
          return record(tx, { ...meta, finishedAt: now() }, results, null);
        });
      } catch (err) {
        if (err instanceof DryRunRollback)
          return record(db, { ...meta, finishedAt: now() }, err.results, null);
        await record(db, { ...meta, finishedAt: now() }, {}, (err as Error).message).catch(() => {});
        throw err;
      }
    },
  };
}
