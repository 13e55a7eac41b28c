/**
 * @module
 * Moves an installation's data from its PGlite database into PostgreSQL (`assenso move-to-postgres`). The
 * whole move is ONE transaction on the target: migrating it, copying every table, advancing its sequences
 * and the caller's checks (`verify`) either all commit or leave the target as it was, without even the
 * tables. The source is only read.
 *
 * Values travel as PostgreSQL prints them, never as JavaScript values: each row leaves PGlite as the text of
 * `row_to_json` (bigint digits, bytea as `\x…` hex, jsonb as its text) and PostgreSQL parses it back with each
 * column's own input function (`json_populate_recordset`), so a signed entry, a 64-bit counter or a jsonb
 * detail arrive byte for byte. Every table is then compared on both sides (row count and a sum of per-row
 * hashes of that text) before anything commits.
 */
import type { Db, Queryable } from './db.ts';
import { migrate, migrationNames } from './migrate.ts';

/** The move cannot be done, or went wrong; the message says why for the person running it. */
export class MoveError extends Error {
  override name = 'MoveError';
}

export interface MoveReport {
  /** The target's schema (where the tables are). */
  schema: string;
  /** Migrations applied to the target (none when an empty database was migrated beforehand). */
  migrated: string[];
  /** Rows copied per table, in the order copied. */
  tables: { table: string; rows: number }[];
  /**
   * Each sequence of the target (serial and identity columns) and the value it was set to: past the largest
   * copied value and the source's own counter. Null: nothing was ever drawn from it, left at its start.
   */
  sequences: { table: string; column: string; value: string | null }[];
  /** Triggers turned off during the copy (and on again before the commit), as `table.trigger`. */
  triggersPaused: string[];
}

export interface MoveOptions {
  /** The PGlite database (read only). */
  source: Db;
  /** The PostgreSQL database: empty, or migrated with empty tables. */
  target: Db;
  /** Rows per INSERT (default 1000). */
  batchRows?: number;
  /** Runs in the target's transaction once everything is copied; what it throws rolls the whole move back. */
  beforeCommit?: (tx: Queryable) => Promise<void>;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** A PostgreSQL error as a DBA reads it: message, SQLSTATE, detail. */
export function describeDbError(err: unknown): string {
  const e = err as { message?: string; code?: string; detail?: string };
  const code = e.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` (SQLSTATE ${e.code})` : '';
  return `${e.message ?? String(err)}${code}${e.detail ? `: ${e.detail}` : ''}`;
}

/** Ordinary tables of the session's current schema, by name (partitioned ones separately: not supported). */
async function tablesOf(db: Queryable): Promise<{ tables: string[]; partitioned: string[] }> {
  const { rows } = await db.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind::text AS kind FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
     ORDER BY c.relname`,
  );
  return {
    tables: rows.filter((r) => r.kind === 'r').map((r) => r.name),
    partitioned: rows.filter((r) => r.kind === 'p').map((r) => r.name),
  };
}

/** Parents before children, so that every foreign key finds its row; otherwise by name. */
function foreignKeyOrder(tables: readonly string[], edges: readonly { child: string; parent: string }[]) {
  const order: string[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = (table: string) => {
    if (done.has(table)) return;
    if (visiting.has(table))
      throw new MoveError(`foreign keys form a cycle through ${table}: no copy order satisfies them`);
    visiting.add(table);
    for (const e of edges)
      if (e.child === table && e.parent !== table && tables.includes(e.parent)) visit(e.parent);
    visiting.delete(table);
    done.add(table);
    order.push(table);
  };
  for (const t of tables) visit(t);
  return order;
}

/** Row count and a sum of per-row hashes of the rows' text: equal on both sides, or the copy is not exact. */
const fingerprint = async (db: Queryable, relation: string) =>
  (
    await db.query<{ n: string; h: string }>(
      `SELECT count(*)::text AS n,
              COALESCE(sum(('x' || substr(md5(row_to_json(t)::text), 1, 15))::bit(60)::bigint::numeric), 0)::text AS h
       FROM ${relation} t`,
    )
  ).rows[0]!;

/** The migrations the source has, checked against this version's: the tables must be the same on both sides. */
async function checkSourceMigrations(source: Queryable, tables: readonly string[]): Promise<void> {
  if (!tables.includes('assenso_migrations'))
    throw new MoveError('the PGlite database holds no assenso data (it has no assenso_migrations table)');
  const applied = new Set(
    (await source.query<{ name: string }>('SELECT name FROM assenso_migrations')).rows.map((r) => r.name),
  );
  const known = await migrationNames();
  const unknown = [...applied].filter((n) => !known.includes(n));
  if (unknown.length)
    throw new MoveError(
      `the PGlite database was migrated by a newer assenso (${unknown.join(', ')}): move it with that version`,
    );
  const missing = known.filter((n) => !applied.has(n));
  if (missing.length)
    throw new MoveError(
      `the PGlite database lacks migrations ${missing.join(', ')}: run \`assenso migrate\` on it first ` +
        '(without DATABASE_URL), then move it',
    );
}

/**
 * Copies every table of `source` (PGlite, fully migrated) into `target` (PostgreSQL), migrated here, in one
 * transaction. Refuses a target whose assenso tables hold any row. Throws `MoveError` for what the person
 * running it can act on; the target is then as it was.
 */
export async function moveDatabase(options: MoveOptions): Promise<MoveReport> {
  const { source, target } = options;
  const batchRows = options.batchRows ?? 1000;
  // Row text in one form on both sides: times in UTC, bytea in hex (PGlite is this process's own connection).
  await source.query("SET TimeZone = 'UTC'");
  await source.query("SET bytea_output = 'hex'");
  const fromSource = await tablesOf(source);
  if (fromSource.partitioned.length)
    throw new MoveError(
      `partitioned tables (${fromSource.partitioned.join(', ')}) are not supported by this version of the move`,
    );
  await checkSourceMigrations(source, fromSource.tables);
  // The migrations' own record is the target's to write: when they ran there is its own history.
  const tables = fromSource.tables.filter((t) => t !== 'assenso_migrations');

  return target.transaction(async (tx) => {
    await tx.query("SET LOCAL TimeZone = 'UTC'");
    await tx.query("SET LOCAL bytea_output = 'hex'");
    const schema = (await tx.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s;
    if (!schema)
      throw new MoveError(
        'the target has no schema to create the tables in: its search_path names no existing schema ' +
          '(CREATE SCHEMA it first, or fix ?options=-c search_path=… in the URL)',
      );
    const before = new Set((await tablesOf(tx)).tables);
    const clash = tables.filter((t) => before.has(t));
    if (!before.has('assenso_migrations') && clash.length)
      throw new MoveError(
        `schema "${schema}" of the target has tables named like assenso's (${clash.join(', ')}) but no ` +
          'assenso_migrations: it is not an assenso database. Move into an empty database or schema.',
      );

    // `migrate` runs its transaction inside this one: the tables exist only if the whole move commits.
    const migrated = await migrate({
      driver: target.driver,
      query: (sql, params, opts) => tx.query(sql, params, opts),
      transaction: (fn) => fn(tx),
      close: async () => {},
    });
    const after = new Set((await tablesOf(tx)).tables);
    const unknown = tables.filter((t) => !after.has(t));
    if (unknown.length)
      throw new MoveError(
        `the PGlite database has tables no migration creates (${unknown.join(', ')}): made by hand? ` +
          'Nothing was copied; drop or rename them in the source first if they are not needed.',
      );
    const relation = (t: string) => `${ident(schema)}.${ident(t)}`;

    // Two installations' data must never mix: their sequences, logs and checkpoints would contradict.
    const holding: string[] = [];
    for (const t of tables)
      if ((await tx.query<{ e: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${relation(t)}) AS e`)).rows[0]?.e)
        holding.push(t);
    if (holding.length)
      throw new MoveError(
        `the target already holds ${holding.includes('receipts') ? 'receipts' : 'assenso data'} ` +
          `(rows in ${holding.join(', ')} of schema "${schema}"): refusing to mix two installations. ` +
          'Move into an empty database or schema.',
      );

    const edges = (
      await tx.query<{ child: string; parent: string }>(
        `SELECT ch.relname AS child, pa.relname AS parent FROM pg_constraint k
         JOIN pg_class ch ON ch.oid = k.conrelid JOIN pg_class pa ON pa.oid = k.confrelid
         WHERE k.contype = 'f' AND ch.relnamespace = $1::regnamespace`,
        [ident(schema)],
      )
    ).rows;
    const order = foreignKeyOrder(tables, edges);

    // INSERT triggers derive values from other rows (receipts_subject, migrations/003-identity.sql, stamps
    // subject_id from identity_links on a receipt that has none). A copy must keep each value as it was: a
    // receipt that retention detached from its person, or one stored before its device was linked, has no
    // subject on purpose. That trigger also takes an advisory lock per device, held to the end of this one
    // transaction: a large installation would exhaust PostgreSQL's lock table. So INSERT triggers are off for
    // the copy. ALTER TABLE … DISABLE TRIGGER is transactional: no other session ever sees them off (the
    // table stays locked until the commit, which turns them on again), and it needs the tables' owner, not a
    // superuser (session_replication_role would). The append-only triggers fire on UPDATE, DELETE and
    // TRUNCATE only: a copy only inserts, so they stay on.
    const triggers = (
      await tx.query<{ table: string; name: string }>(
        `SELECT c.relname AS table, t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND (t.tgtype & 4) <> 0
           AND c.relnamespace = $1::regnamespace AND c.relname = ANY($2::text[])
         ORDER BY 1, 2`,
        [ident(schema), tables],
      )
    ).rows;
    const setTriggers = async (state: 'DISABLE' | 'ENABLE') => {
      for (const t of triggers) {
        try {
          await tx.query(`ALTER TABLE ${relation(t.table)} ${state} TRIGGER ${ident(t.name)}`);
        } catch (err) {
          throw new MoveError(
            `cannot ${state.toLowerCase()} trigger ${t.name} on ${t.table}: ${describeDbError(err)}. The move ` +
              'turns INSERT triggers off inside its transaction so that the copy keeps every value: run it as ' +
              "the owner of the target's tables (or into an empty database or schema, whose tables it creates).",
          );
        }
      }
    };
    await setTriggers('DISABLE');

    const copied: MoveReport['tables'] = [];
    for (const table of order) {
      try {
        const columns = (
          await tx.query<{ name: string }>(
            `SELECT attname AS name FROM pg_attribute
             WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
             ORDER BY attnum`,
            [relation(table)],
          )
        ).rows.map((r) => ident(r.name));
        // OVERRIDING SYSTEM VALUE: identity columns keep the ids the rows have (erasure request 1 stays 1).
        const insert = `INSERT INTO ${relation(table)} (${columns.join(', ')}) OVERRIDING SYSTEM VALUE
          SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${relation(table)}, $1::json)`;
        let rows = 0;
        // Pages by physical position: the source is locked to this process, so nothing moves meanwhile.
        for (let last = '(0,0)'; ; ) {
          const page = await source.query<{ c: string; j: string }>(
            `SELECT ctid::text AS c, row_to_json(t)::text AS j FROM ${ident(table)} t
             WHERE ctid > $1::tid ORDER BY ctid LIMIT ${batchRows}`,
            [last],
          );
          if (page.rows.length === 0) break;
          await tx.query(insert, [`[${page.rows.map((r) => r.j).join(',')}]`]);
          rows += page.rows.length;
          last = page.rows[page.rows.length - 1]!.c;
        }
        const [from, to] = [await fingerprint(source, ident(table)), await fingerprint(tx, relation(table))];
        if (from.n !== to.n) throw new MoveError(`${from.n} rows in PGlite but ${to.n} in the copy`);
        if (from.h !== to.h)
          throw new MoveError(
            `the copied rows do not read the same as PGlite's (${to.n} rows): a trigger, a default or a ` +
              'column that differs between the two changed values',
          );
        copied.push({ table, rows });
      } catch (err) {
        if (err instanceof MoveError) throw new MoveError(`copying ${table}: ${err.message}`);
        throw new MoveError(`copying ${table}: ${describeDbError(err)}`);
      }
    }

    // Each sequence goes past both the largest value copied and the source's own counter (ids given out and
    // then deleted, e.g. delivered webhooks, are not given out again): the next row gets a fresh id instead
    // of a duplicate key.
    const serials = (
      await tx.query<{ table: string; column: string; seq: string }>(
        `SELECT * FROM (
           SELECT c.relname AS table, a.attname AS column,
                  pg_get_serial_sequence(format('%I.%I', $1::text, c.relname), a.attname) AS seq
           FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
           WHERE c.relnamespace = $2::regnamespace AND c.relname = ANY($3::text[])
             AND a.attnum > 0 AND NOT a.attisdropped) s
         WHERE seq IS NOT NULL ORDER BY 1, 2`,
        [schema, ident(schema), tables],
      )
    ).rows;
    const sequences: MoveReport['sequences'] = [];
    for (const s of serials) {
      const sourceSeq = (
        await source.query<{ seq: string | null }>(
          `SELECT pg_get_serial_sequence(format('%I.%I', current_schema(), $1::text), $2) AS seq`,
          [s.table, s.column],
        )
      ).rows[0]?.seq;
      const drawn = sourceSeq
        ? (
            await source.query<{ v: string; called: boolean }>(
              `SELECT last_value::text AS v, is_called AS called FROM ${sourceSeq}`,
            )
          ).rows[0]
        : undefined;
      const max = (
        await tx.query<{ m: string | null }>(
          `SELECT max(${ident(s.column)})::text AS m FROM ${relation(s.table)}`,
        )
      ).rows[0]?.m;
      const candidates = [
        drawn?.called ? BigInt(drawn.v) : null,
        max === null || max === undefined ? null : BigInt(max),
      ];
      const value = candidates.reduce<bigint | null>(
        (a, b) => (b === null ? a : a === null || b > a ? b : a),
        null,
      );
      if (value !== null)
        await tx.query('SELECT setval($1::regclass, $2::bigint, true)', [s.seq, value.toString()]);
      sequences.push({ table: s.table, column: s.column, value: value === null ? null : value.toString() });
    }

    await setTriggers('ENABLE');
    await options.beforeCommit?.(tx);
    return {
      schema,
      migrated,
      tables: copied,
      sequences,
      triggersPaused: triggers.map((t) => `${t.table}.${t.name}`),
    };
  });
}
