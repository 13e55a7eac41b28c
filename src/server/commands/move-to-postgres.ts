/**
 * @module
 * `assenso move-to-postgres --to URL`: moves an installation from its PGlite database to PostgreSQL in one
 * transaction (db/move.ts), and commits only once `verify` passes over the copy (the transparency log and the
 * access log). The PGlite directory is only read, and stays locked while the move runs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import type { Db, Queryable } from '../db/db.ts';
import { describeDbError, MoveError, type MoveReport, moveDatabase } from '../db/move.ts';
import { openDatabase, redact } from '../db/open.ts';
import { createPostgresDb } from '../db/postgres.ts';
import { type Keyring, loadVerificationKeyring } from '../log/keys.ts';
import { type SiteReport, verifyLog } from '../log/verify.ts';
import { type AccessLogVerification, createAccessLog } from '../protection/access-log.ts';
import { table } from '../protection/cli-support.ts';
import { type Command, UsageError } from './command.ts';

interface Checks {
  sites: SiteReport[];
  accessLog: AccessLogVerification;
}

/** `verify` and the access log's own check over `db`; the first problem, if any, in words. */
async function check(db: Queryable, keyring: Keyring): Promise<Checks & { problem?: string }> {
  const log = await verifyLog({ db, keyring });
  // The access log's services want a Db; these checks only read through it.
  const accessLog = await createAccessLog({
    db: { driver: 'postgres', query: db.query.bind(db), transaction: (fn) => fn(db), close: async () => {} },
    keyring,
  }).verify();
  const first = log.first;
  const problem = first
    ? `site ${first.siteId}${first.leafIndex != null ? `, leaf ${first.leafIndex}` : ''}${first.receiptId ? `, receipt ${first.receiptId}` : ''}: ${first.message}`
    : accessLog.ok
      ? undefined
      : `access log, entry ${accessLog.problem?.seq}: ${accessLog.problem?.reason}`;
  return { sites: log.sites, accessLog, ...(problem ? { problem } : {}) };
}

const siteLine = (s: SiteReport) =>
  `verify: site ${s.siteId}: OK (${s.receipts} receipts, ${s.treeSize} leaves, ${s.checkpoints} checkpoints)\n`;

export const command: Command = {
  summary: 'Move the PGlite database of the data directory into an empty PostgreSQL database',
  usage: `assenso move-to-postgres [--to URL] [--config FILE] [--json]

Copies everything the server stored in <dataDir>/pglite (receipts, the transparency log and its checkpoints,
identity links, email preferences, erasure requests, contacts, the access log, …) into PostgreSQL, in ONE
transaction: the target is migrated, every table copied value for value (signed entries byte for byte),
every sequence advanced past the copied ids, and \`assenso verify\` plus the access log's check run over the
copy; only then does it commit. On any failure the target is left as it was (not even the tables).

  --to      the target, postgres://user@host:5432/db (default: DATABASE_URL, which keeps the password out
            of the process list); ?options=-c search_path=SCHEMA moves into that schema
  --config  configuration file, as for serve: its dataDir is the source
  --json    print the report as JSON

The target must be an empty database or schema (or one migrated with empty tables): a target that already
holds data is refused. Stop the server first: a data directory a server holds is refused. The source is only
read. Afterwards start the server with DATABASE_URL set and the SAME data directory (its signing keys,
pseudonym secret and contact keys stay there) and do not start it on PGlite again.
Exit 0 when moved, 1 when refused or failed (nothing moved), 2 for bad arguments.`,
  async run(ctx) {
    const { values } = parseArgs({
      args: ctx.argv,
      options: { to: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
    });
    const url = values.to ?? ctx.env.DATABASE_URL;
    if (!url) throw new UsageError('give the target: --to postgres://… (or set DATABASE_URL)');
    if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--to must be a postgres:// URL, not ${url}`);
    const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
    const dataDir = resolve(ctx.cwd, config.dataDir);
    const pglite = join(dataDir, 'pglite');
    if (!existsSync(join(pglite, 'PG_VERSION')))
      throw new MoveError(`no PGlite database at ${pglite}: nothing to move (check dataDir, --config)`);
    const { DATABASE_URL: _target, ...sourceEnv } = ctx.env;
    // The server's public keys: the copy must verify against the same keys the server signs with.
    const keyring = await loadVerificationKeyring({ dataDir, env: sourceEnv });
    const shown = redact(url);
    const opened = openDatabase({ dataDir, env: sourceEnv });
    let target: Db | undefined;
    try {
      target = createPostgresDb(url, { max: 1 });
      try {
        await target.query('SELECT 1');
      } catch (err) {
        throw new MoveError(`cannot connect to ${shown}: ${describeDbError(err)}`);
      }
      if (!values.json) ctx.stdout(`moving ${opened.description} to ${shown}\n`);
      let checks: Checks | undefined;
      let report: MoveReport;
      try {
        report = await moveDatabase({
          source: opened.db,
          target,
          async beforeCommit(tx) {
            const result = await check(tx, keyring);
            if (result.problem) throw new CopyDoesNotVerify(result.problem);
            checks = result;
          },
        });
      } catch (err) {
        if (err instanceof CopyDoesNotVerify) {
          // Whose fault: a log that was already broken in PGlite, or the copy?
          const source = await check(opened.db, keyring);
          throw new MoveError(
            source.problem
              ? `the PGlite database itself does not verify (${source.problem}). Nothing was moved: run ` +
                  `\`assenso verify --database ${dataDir}\` and resolve it first.`
              : `the copy does not verify (${err.message}) although the PGlite database does. Nothing was ` +
                  'moved (rolled back); please report this.',
          );
        }
        if (err instanceof MoveError) throw new MoveError(`${err.message} Nothing was moved.`);
        throw new MoveError(`${describeDbError(err)}. Nothing was moved.`);
      }
      if (values.json) {
        ctx.stdout(
          `${JSON.stringify({ source: opened.description, target: shown, ...report, ...checks })}\n`,
        );
        return 0;
      }
      ctx.stdout(
        report.migrated.length
          ? `migrated the target (schema ${report.schema}): ${report.migrated.join(', ')}\n`
          : `the target (schema ${report.schema}) was already migrated, with empty tables\n`,
      );
      ctx.stdout(
        `copied:\n${table([['TABLE', 'ROWS'], ...report.tables.map((t) => [t.table, String(t.rows)])])}`,
      );
      ctx.stdout(
        `sequences:\n${table([
          ['SEQUENCE OF', 'SET TO'],
          ...report.sequences.map((s) => [
            `${s.table}.${s.column}`,
            s.value ?? '(unused, left at its start)',
          ]),
        ])}`,
      );
      if (report.triggersPaused.length)
        ctx.stdout(`triggers off during the copy, on again: ${report.triggersPaused.join(', ')}\n`);
      for (const s of checks?.sites ?? []) ctx.stdout(siteLine(s));
      if (checks?.sites.length === 0) ctx.stdout('verify: no receipts\n');
      if (checks)
        ctx.stdout(
          `access log: OK (${checks.accessLog.entries} entries, ${checks.accessLog.heads} signed heads)\n`,
        );
      ctx.stdout(
        `committed. ${shown} now holds the data; ${pglite} is unchanged.\n` +
          `Next: start the server with DATABASE_URL=${shown} and the same data directory (${dataDir}: its ` +
          'keys and secrets stay there). Do not start it on PGlite again: what it stored there would not reach ' +
          'PostgreSQL.\n',
      );
      return 0;
    } finally {
      await target?.close().catch(() => {});
      await opened.close();
    }
  },
};

/** The copy failed `verify` (thrown inside the transaction, so that it rolls back). */
class CopyDoesNotVerify extends Error {}
