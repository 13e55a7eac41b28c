/**
 * @module
 * `assenso export`: a site's receipts for a time range, with signatures, leaf indexes, inclusion proofs and
 * the checkpoint they are proven against (src/server/log/export.ts), as NDJSON or CSV, for an auditor.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { type ExportFormat, exportReceipts } from '../log/export.ts';
import type { KantaraController } from '../log/kantara.ts';
import { loadVerificationKeyring } from '../log/keys.ts';
import { type Command, UsageError } from './command.ts';
import { databaseTarget } from './verify.ts';

/** `2026-01-31`, `2026-01-31T12:00:00Z` or epoch milliseconds. */
export function parseTime(text: string, option: string): number {
  const ms = /^\d+$/.test(text)
    ? Number(text)
    : /^\d{4}-\d{2}-\d{2}/.test(text)
      ? Date.parse(text)
      : Number.NaN;
  if (!Number.isSafeInteger(ms))
    throw new UsageError(`${option}: expected a date (2026-01-31, ISO 8601) or epoch ms, got "${text}"`);
  return ms;
}

export const command: Command = {
  summary: 'Export a site’s receipts with proofs (NDJSON or CSV) for an auditor',
  usage: `assenso export --site ID [--from TIME] [--to TIME] [--format ndjson|csv] [--kantara] [--output FILE]
               [--jurisdiction CODE] [--policy-url URL] [--controller FILE] [--as-of TIME]
               [--database URL|DIR] [--config FILE]

Writes the site's receipts received in [--from, --to) in log order, each with the server's signature, its leaf
index and its inclusion proof against the site's latest signed checkpoint (included), so that an auditor can
check them without trusting the database (docs/transparency.md). Receipts not yet in a checkpoint are written
without a proof.

  --from, --to    2026-01-31, 2026-01-31T12:00:00Z or epoch ms (default: everything)
  --format        ndjson (default: a header line with the checkpoint and keys, then one line per receipt) or csv
  --kantara       add each receipt in the Kantara Consent Receipt v1.1 shape (ISO/IEC TS 27560)
  --jurisdiction  Kantara jurisdiction (default EU); --policy-url: Kantara policyUrl
  --controller    JSON file with the Kantara piiControllers entry (or an array of them)
  --as-of         the time each receipt's \`effective\` state is computed for (default now): a grant past its
                  expiry counts as denied (the signed receipt itself is exported unchanged)
  --output        write to FILE instead of standard output`,
  async run(ctx) {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        site: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        format: { type: 'string', default: 'ndjson' },
        kantara: { type: 'boolean' },
        jurisdiction: { type: 'string' },
        'policy-url': { type: 'string' },
        controller: { type: 'string' },
        output: { type: 'string' },
        'as-of': { type: 'string' },
        database: { type: 'string' },
        config: { type: 'string' },
      },
      strict: true,
    });
    const site = values.site;
    if (!site) throw new UsageError('--site is required');
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(site)) throw new UsageError(`invalid site id: ${site}`);
    if (values.format !== 'ndjson' && values.format !== 'csv')
      throw new UsageError(`--format: expected ndjson or csv, got "${values.format}"`);
    const from = values.from === undefined ? undefined : parseTime(values.from, '--from');
    const to = values.to === undefined ? undefined : parseTime(values.to, '--to');
    const asOf = values['as-of'] === undefined ? undefined : parseTime(values['as-of'], '--as-of');
    if (from !== undefined && to !== undefined && from >= to)
      throw new UsageError('--from must be before --to');

    const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
    let controllers: KantaraController[] | undefined;
    if (values.controller) {
      const parsed = JSON.parse(await readFile(resolve(ctx.cwd, values.controller), 'utf8')) as unknown;
      controllers = (Array.isArray(parsed) ? parsed : [parsed]) as KantaraController[];
    } else {
      const name = config.sites.find((s) => s.id === site)?.name;
      if (name) controllers = [{ piiController: name, contact: '', address: '', email: '', phone: '' }];
    }
    const target = databaseTarget(values.database, ctx, config.dataDir);
    const keyring = await loadVerificationKeyring({ dataDir: target.dataDir, env: target.env });
    const opened = openDatabase({ dataDir: target.dataDir, env: target.env, poolSize: 2 });
    const file = values.output ? createWriteStream(resolve(ctx.cwd, values.output)) : undefined;
    // Back-pressure: wait for the file to drain rather than buffering a large export in memory.
    const write = file
      ? (chunk: string) =>
          new Promise<void>((ok, fail) => file.write(chunk, (err) => (err ? fail(err) : ok())))
      : (chunk: string) => ctx.stdout(chunk);
    try {
      // One snapshot for the whole export: the checkpoint, the sequenced and the waiting receipts agree even
      // while the server keeps sequencing.
      const summary = await opened.db.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        return exportReceipts({
          db: tx,
          keyring,
          siteId: site,
          format: values.format as ExportFormat,
          write,
          ...(from !== undefined ? { from } : {}),
          ...(to !== undefined ? { to } : {}),
          ...(asOf !== undefined ? { asOf } : {}),
          kantara: values.kantara
            ? {
                ...(controllers ? { controllers } : {}),
                ...(values.jurisdiction ? { jurisdiction: values.jurisdiction } : {}),
                ...(values['policy-url'] ? { policyUrl: values['policy-url'] } : {}),
              }
            : false,
        });
      });
      const head = summary.checkpoint;
      ctx.stderr(
        `exported ${summary.receipts} receipts of ${site} (${summary.proven} with inclusion proofs${head ? ` against the checkpoint of size ${head.treeSize}` : ''})\n`,
      );
      return 0;
    } finally {
      if (file) await new Promise<void>((ok) => file.end(ok));
      await opened.close();
    }
  },
};
