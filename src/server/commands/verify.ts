/**
 * @module
 * `assenso verify`: checks every receipt, the rebuilt Merkle trees and every signed checkpoint
 * (src/server/log/verify.ts). Exit 0 when everything matches, 1 naming the first receipt that does not.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { parseCheckpointNote } from '../log/checkpoint.ts';
import { loadVerificationKeyring } from '../log/keys.ts';
import { type SiteReport, type VerifyProblem, verifyLog } from '../log/verify.ts';
import { type CliContext, type Command, UsageError } from './command.ts';

/** `--database`: a PostgreSQL URL, or a data directory (PGlite under `<dir>/pglite`, keys under `<dir>/keys`). */
export function databaseTarget(
  database: string | undefined,
  ctx: Pick<CliContext, 'env' | 'cwd'>,
  dataDir: string,
): { dataDir: string; env: Record<string, string | undefined> } {
  if (!database) return { dataDir: resolve(ctx.cwd, dataDir), env: ctx.env };
  if (/^postgres(ql)?:\/\//.test(database))
    return { dataDir: resolve(ctx.cwd, dataDir), env: { ...ctx.env, DATABASE_URL: database } };
  const { DATABASE_URL: _ignored, ...env } = ctx.env;
  return { dataDir: resolve(ctx.cwd, database), env };
}

/**
 * A kept checkpoint as an auditor has it: the bare note (`Accept: text/plain`), or the JSON that
 * GET /v1/log/:site/checkpoint answers by default (and a proof or an export header, which carry it under
 * `checkpoint`). A file that holds none is refused: passed over, it would leave the log reported OK unchecked.
 */
function keptCheckpoint(file: string, text: string): { note: string; siteId: string } {
  let note: unknown = text;
  if (text.trimStart().startsWith('{')) {
    try {
      const json = JSON.parse(text) as { note?: unknown; checkpoint?: { note?: unknown } };
      note = json.note ?? json.checkpoint?.note;
    } catch {
      // not JSON: read as a note, which fails below with the reason
    }
  }
  try {
    if (typeof note !== 'string') throw new Error('no "note" in it');
    const { origin } = parseCheckpointNote(note);
    return { note, siteId: origin.slice(origin.lastIndexOf('/log/') + 5) };
  } catch (err) {
    throw new UsageError(
      `--checkpoint ${file}: not a signed checkpoint (the note of GET /v1/log/<site>/checkpoint, or its JSON): ${(err as Error).message}`,
    );
  }
}

const where = (p: VerifyProblem) =>
  [
    p.leafIndex !== undefined && p.leafIndex !== null ? `leaf ${p.leafIndex}` : undefined,
    p.receiptId ? `receipt ${p.receiptId}` : undefined,
    p.treeSize !== undefined ? `checkpoint size ${p.treeSize}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');

function summary(site: SiteReport): string {
  const counts = `${site.receipts} receipts, ${site.treeSize} leaves, ${site.checkpoints} checkpoints`;
  if (site.problems.length === 0) return `site ${site.siteId}: OK (${counts})\n`;
  const more = site.truncated ? ' (more not shown)' : '';
  const lines = site.problems.map((p) => `  - [${p.kind}] ${p.message}\n`).join('');
  return `site ${site.siteId}: FAILED (${counts}): ${site.problems.length} problem(s)${more}\n${lines}`;
}

export const command: Command = {
  summary: 'Check receipts, Merkle trees and signed checkpoints; name the first receipt that does not match',
  usage: `assenso verify [--site ID] [--database URL|DIR] [--keys FILE] [--checkpoint FILE]... [--json] [--config FILE]

Rebuilds each site's log from the stored receipts and checks every signature, leaf hash, stored subtree,
leaf index (0…n-1, none missing) and signed checkpoint. Exits 0 when all match, 1 when something does not,
naming the first receipt (id and leaf index) or checkpoint that does not match.

  --site        one site (default: every site with receipts or a kept checkpoint)
  --database    a PostgreSQL URL, or a data directory (default: DATABASE_URL, else the configured dataDir;
                a PGlite directory cannot be verified while a server holds it)
  --keys        public keys to verify with (JSON: the body of GET /v1/keys), and no others; default the
                server's keys from ASSENSO_SIGNING_KEYS and <dataDir>/keys
  --checkpoint  a signed checkpoint kept from earlier (repeatable): the note, or the JSON of
                GET /v1/log/<site>/checkpoint; it must still match the log
  --json        print the full report as JSON`,
  async run(ctx) {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        site: { type: 'string' },
        database: { type: 'string' },
        keys: { type: 'string' },
        checkpoint: { type: 'string', multiple: true },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
      strict: true,
    });
    if (values.site !== undefined && !/^[a-z0-9][a-z0-9_-]{0,63}$/.test(values.site))
      throw new UsageError(`invalid site id: ${values.site}`);
    const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
    const target = databaseTarget(values.database, ctx, config.dataDir);
    const keyring = await loadVerificationKeyring({
      dataDir: target.dataDir,
      env: target.env,
      ...(values.keys ? { keysFile: resolve(ctx.cwd, values.keys) } : {}),
    });
    const trusted = await Promise.all(
      (values.checkpoint ?? []).map(async (f) => {
        const kept = keptCheckpoint(f, await readFile(resolve(ctx.cwd, f), 'utf8'));
        if (values.site !== undefined && kept.siteId !== values.site)
          throw new UsageError(
            `--checkpoint ${f}: a checkpoint of the log of site ${kept.siteId}, not of --site ${values.site}`,
          );
        return kept.note;
      }),
    );
    const opened = openDatabase({ dataDir: target.dataDir, env: target.env, poolSize: 2 });
    try {
      const report = await verifyLog({
        db: opened.db,
        keyring,
        trusted,
        ...(values.site ? { siteId: values.site } : {}),
      });
      if (values.json) ctx.stdout(`${JSON.stringify(report, null, 2)}\n`);
      else {
        if (report.sites.length === 0) ctx.stdout('no receipts to verify\n');
        for (const site of report.sites) ctx.stdout(summary(site));
      }
      if (report.first) {
        ctx.stderr(
          `assenso verify: FAILED at ${where(report.first) || `site ${report.first.siteId}`}: ${report.first.message}\n`,
        );
        return 1;
      }
      return 0;
    } finally {
      await opened.close();
    }
  },
};
