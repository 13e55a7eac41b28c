/**
 * @module
 * `assenso erasure run [--site S]` carries out pending erasure requests (contact data, device links, page
 * sessions; receipts stay as proof, docs/email.md); `assenso erasure list --site S [--status pending|done]`.
 */
import { parseArgs } from 'node:util';
import { iso, table } from '../protection/cli-support.ts';
import { openEmailCli } from '../email/cli-support.ts';
import { type Command, UsageError } from './command.ts';

export const command: Command = {
  summary: 'Carry out pending erasure requests; list them',
  usage: `assenso erasure run [--site SITE] [--json]
assenso erasure list --site SITE [--status pending|done] [--json]

  run     removes each pending request's contact data, device links and sessions, records what was removed
  list    the latest requests of a site, newest first
  --config FILE as for serve. With PGlite, run while the server is stopped.`,
  async run(ctx) {
    const [action, ...rest] = ctx.argv;
    const { values } = parseArgs({
      args: rest,
      options: {
        site: { type: 'string' },
        status: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
        'base-url': { type: 'string' },
      },
      strict: true,
    });
    if (action !== 'run' && action !== 'list') throw new UsageError('expected run or list');
    if (action === 'list' && !values.site) throw new UsageError('--site is required');
    const cli = await openEmailCli(ctx, {
      config: values.config,
      baseUrl: values['base-url'] ?? 'http://localhost',
    });
    try {
      const requests =
        action === 'run'
          ? (await cli.kit.erasure.run(values.site ? { siteId: values.site } : {})).requests
          : await cli.kit.erasure.list(values.site!, values.status ? { status: values.status } : {});
      if (action === 'run')
        for (const r of requests)
          await cli.protection.accessLog.append({
            actor: { keyId: 'cli', role: 'admin', siteId: null, ip: null, userAgent: 'assenso erasure' },
            action: 'erasure.run',
            siteId: r.siteId,
            subjectId: r.subjectId,
            detail: r.result ?? {},
          });
      if (values.json) ctx.stdout(`${JSON.stringify(requests)}\n`);
      else {
        if (action === 'run') ctx.stdout(`${requests.length} erasure request(s) carried out\n`);
        if (requests.length)
          ctx.stdout(
            table([
              ['ID', 'SITE', 'SUBJECT', 'REQUESTED', 'VIA', 'STATUS', 'DONE', 'REMOVED'],
              ...requests.map((r) => [
                String(r.id),
                r.siteId,
                r.subjectId,
                iso(r.requestedAt),
                r.via,
                r.status,
                iso(r.completedAt),
                r.result
                  ? Object.entries(r.result)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(' ')
                  : '-',
              ]),
            ]),
          );
      }
      return 0;
    } finally {
      await cli.close();
    }
  },
};
