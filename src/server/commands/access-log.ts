/**
 * @module
 * `assenso access-log verify|query|head`: checks the access log's hash chain and signed heads, and reads it.
 */
import { parseArgs } from 'node:util';
import { createAccessLog } from '../protection/access-log.ts';
import { iso, openProtectionCli, table } from '../protection/cli-support.ts';
import { type Command, UsageError } from './command.ts';

function time(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(t)) throw new UsageError(`--${name} must be epoch ms or an ISO 8601 date`);
  return t;
}

export const command: Command = {
  summary: 'Verify the access log (hash chain, signed heads), query it, print its newest signed head',
  usage: `assenso access-log verify [--head FILE] [--json]
assenso access-log query [--subject ID] [--site ID] [--from DATE] [--to DATE] [--limit N] [--json]
assenso access-log head

  verify   recomputes every entry's hash and checks each signed head; exit 1 naming the first entry that
           does not match (edited, deleted, reordered or cut off)
  --head   a head printed earlier by \`head\` and kept outside the database: it must still match
  query    entries about a person (pseudonymous subject id) or a site, in a time range
  head     the newest signed head as JSON: keep copies elsewhere so that a rewrite of the whole log is caught
  --config FILE as for serve. With PGlite, run these while the server is stopped.`,
  async run(ctx) {
    const [action, ...rest] = ctx.argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        subject: { type: 'string' },
        site: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        limit: { type: 'string' },
        head: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
      strict: true,
    });
    if (action !== 'verify' && action !== 'query' && action !== 'head')
      throw new UsageError('expected verify, query or head');
    const cli = await openProtectionCli(ctx, values.config);
    try {
      const { accessLog } = cli.protection;
      if (action === 'head') {
        const heads = await accessLog.heads();
        const newest = heads[heads.length - 1];
        if (!newest) {
          ctx.stderr(
            'assenso access-log: no signed head yet (the server signs one within a minute of new entries)\n',
          );
          return 1;
        }
        ctx.stdout(`${JSON.stringify(newest)}\n`);
        return 0;
      }
      if (action === 'query') {
        const entries = await accessLog.query({
          ...(values.subject ? { subjectId: values.subject } : {}),
          ...(values.site ? { siteId: values.site } : {}),
          from: time(values.from, 'from'),
          to: time(values.to, 'to'),
          limit: Number(values.limit ?? 1000) || 1000,
        });
        if (values.json) ctx.stdout(`${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
        else
          ctx.stdout(
            table([
              ['SEQ', 'AT', 'KEY', 'ROLE', 'ACTION', 'SITE', 'SUBJECT', 'FROM'],
              ...entries.map((e) => [
                String(e.seq),
                iso(e.at),
                e.keyId,
                e.role,
                e.action,
                e.siteId ?? '-',
                e.subjectId ?? '-',
                e.ip ?? '-',
              ]),
            ]),
          );
        return 0;
      }
      if (!cli.keyring) ctx.stderr('warning: no signing keys found: signed heads cannot be checked\n');
      // Without the server's keys the protection services hold a throwaway key (commands never sign), against
      // which every real head would read as forged: check the chain alone, as the warning says.
      const result = await (cli.keyring ? accessLog : createAccessLog({ db: cli.db })).verify();
      if (result.ok && values.head) {
        const { readFile } = await import('node:fs/promises');
        const kept = JSON.parse(await readFile(values.head, 'utf8')) as { seq: number; hash: string };
        const match = (await accessLog.heads()).find((h) => h.seq === kept.seq);
        const entry = (await accessLog.query({ afterSeq: kept.seq - 1, limit: 1 }))[0];
        const firstSeq = result.firstSeq ?? Number.POSITIVE_INFINITY;
        // A kept head must still be in the log, unless retention pruned past it.
        if (
          kept.seq >= firstSeq &&
          (match?.hash !== kept.hash || (entry?.seq === kept.seq && entry.hash !== kept.hash))
        ) {
          result.ok = false;
          result.problem = {
            seq: kept.seq,
            reason: `the kept head at ${kept.seq} no longer matches the log`,
          };
        }
      }
      if (values.json) ctx.stdout(`${JSON.stringify(result)}\n`);
      else if (result.ok)
        ctx.stdout(
          `access log: OK (${result.entries} entries${result.firstSeq ? `, ${result.firstSeq}…${result.lastSeq}` : ''}, ${result.heads} signed heads)\n`,
        );
      else ctx.stdout(`access log: FAILED at entry ${result.problem?.seq}: ${result.problem?.reason}\n`);
      return result.ok ? 0 : 1;
    } finally {
      await cli.close();
    }
  },
};
