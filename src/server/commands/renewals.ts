/**
 * @module
 * `assenso renewals --site S --due 30d [--format csv|ndjson] [--email]`: the people whose consents expire by
 * then, one line per person, with fresh links, for a renewal campaign (as GET /v1/admin/renewals).
 */
import { parseArgs } from 'node:util';
import { csvField, openEmailCli } from '../email/cli-support.ts';
import { parseDue } from '../email/renewals-service.ts';
import { type Command, UsageError } from './command.ts';

export const command: Command = {
  summary: 'List people whose consents expire by a date, with renewal links (CSV or NDJSON)',
  usage: `assenso renewals --site SITE --due 30d|2026-05-01 [--format csv|ndjson] [--email]

  --due        a span from now (30d, 12h, 2w) or a date/ISO time; a bare date includes that whole day (UTC)
  --format     csv (default; header line first) or ndjson (one JSON object per line)
  --email      include the stored address, decrypted (recorded in the access log)
  --base-url   origin of the links (default: config publicUrl)
  --config FILE as for serve. With PGlite, run while the server is stopped.`,
  async run(ctx) {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        site: { type: 'string' },
        due: { type: 'string' },
        format: { type: 'string' },
        email: { type: 'boolean' },
        'base-url': { type: 'string' },
        config: { type: 'string' },
      },
      strict: true,
    });
    const format = values.format ?? 'csv';
    if (!values.site || !values.due) throw new UsageError('--site and --due are required');
    if (format !== 'csv' && format !== 'ndjson') throw new UsageError('--format must be csv or ndjson');
    const due = parseDue(values.due, Date.now());
    if (due === null) throw new UsageError('--due must be a span (30d, 12h, 2w) or a date');
    const cli = await openEmailCli(ctx, { config: values.config, baseUrl: values['base-url'] });
    try {
      if (format === 'csv')
        ctx.stdout(
          `${['subject_id', 'expires_at', 'expiring', ...(values.email ? ['email'] : []), 'renewal_url', 'preferences_url', 'unsubscribe_url'].join(',')}\n`,
        );
      let after: string | undefined;
      do {
        const page = await cli.kit.renewals.list({
          siteId: values.site,
          due,
          baseUrl: cli.baseUrl,
          limit: 500,
          withEmail: values.email ?? false,
          ...(after ? { after } : {}),
        });
        for (const e of page.entries) {
          if (values.email)
            await cli.protection.accessLog.append({
              actor: { keyId: 'cli', role: 'admin', siteId: null, ip: null, userAgent: 'assenso renewals' },
              action: 'renewals.contact-read',
              siteId: values.site,
              subjectId: e.subjectId,
            });
          if (format === 'ndjson')
            ctx.stdout(`${JSON.stringify({ ...e, expiresAt: new Date(e.expiresAt).toISOString() })}\n`);
          else
            ctx.stdout(
              `${[
                e.subjectId,
                new Date(e.expiresAt).toISOString(),
                e.expiring.map((x) => `${x.purpose}.${x.channel}`).join(' '),
                ...(values.email ? [e.email ?? ''] : []),
                e.links.renewalUrl,
                e.links.preferencesUrl,
                e.links.unsubscribeUrl,
              ]
                .map(csvField)
                .join(',')}\n`,
            );
        }
        after = page.next ?? undefined;
      } while (after);
      return 0;
    } finally {
      await cli.close();
    }
  },
};
