/**
 * @module
 * `assenso links --site S --user U [--email E] [--purpose P…]`: a person's email links (as POST /v1/admin/links),
 * and `assenso links rotate-key [--retire-previous]`: a new link-signing key (retiring the others revokes
 * every link they signed).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openEmailCli } from '../email/cli-support.ts';
import { LINK_KEYS_ENV, readLinkKeys, rotateLinkKeys, writeLinkKeys } from '../email/link-keys.ts';
import { type Command, UsageError } from './command.ts';

export const command: Command = {
  summary: 'Make a person’s email links (preferences, one-click unsubscribe); rotate the link-signing key',
  usage: `assenso links --site SITE --user USER_ID [--email ADDRESS] [--purpose ID]... [--language it|en] [--json]
assenso links rotate-key [--retire-previous]

  --site, --user   the site and the site's own user id (stored only as a keyed pseudonym)
  --email          kept encrypted for renewal campaigns (needs contact keys, docs/security.md)
  --purpose        limit the unsubscribe link to these purposes (repeatable); default every purpose
  --base-url       origin of the links (default: config publicUrl)
  rotate-key       adds a key to <dataDir>/link-keys.json; --retire-previous revokes every earlier link
  --config FILE    as for serve. With PGlite, run while the server is stopped.`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.argv,
      allowPositionals: true,
      options: {
        site: { type: 'string' },
        user: { type: 'string' },
        email: { type: 'string' },
        purpose: { type: 'string', multiple: true },
        language: { type: 'string' },
        'base-url': { type: 'string' },
        'retire-previous': { type: 'boolean' },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
      strict: true,
    });
    if (positionals[0] === 'rotate-key') {
      if (ctx.env[LINK_KEYS_ENV])
        throw new UsageError(`${LINK_KEYS_ENV} is set: rotate the keys where it is defined`);
      const config = await loadConfig({ configPath: values.config, env: ctx.env, cwd: ctx.cwd });
      const dataDir = resolve(ctx.cwd, config.dataDir);
      const next = rotateLinkKeys(
        await readLinkKeys(dataDir),
        Date.now(),
        values['retire-previous'] ?? false,
      );
      await writeLinkKeys(dataDir, next);
      const added = next.at(-1)!;
      ctx.stdout(
        `new link-signing key ${added.kid}${values['retire-previous'] ? '; earlier keys retired (their links are revoked)' : ''}\n`,
      );
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected ${positionals.join(' ')}`);
    if (!values.site || !values.user) throw new UsageError('--site and --user are required');
    if (values.language && values.language !== 'it' && values.language !== 'en')
      throw new UsageError('--language must be it or en');
    const cli = await openEmailCli(ctx, { config: values.config, baseUrl: values['base-url'] });
    try {
      const links = await cli.kit.links.mint({
        siteId: values.site,
        userId: values.user,
        ...(values.email ? { email: values.email } : {}),
        ...(values.purpose?.length ? { purposes: values.purpose } : {}),
        ...(values.language ? { language: values.language as 'it' | 'en' } : {}),
        baseUrl: cli.baseUrl,
      });
      if (values.json) ctx.stdout(`${JSON.stringify(links, null, 2)}\n`);
      else
        ctx.stdout(
          `subject          ${links.subjectId}\npreferences      ${links.preferencesUrl}\nunsubscribe      ${links.unsubscribeUrl}\nrenewal          ${links.renewalUrl}\n` +
            Object.entries(links.listUnsubscribeHeaders)
              .map(([k, v]) => `${k}: ${v}\n`)
              .join(''),
        );
      return 0;
    } finally {
      await cli.close();
    }
  },
};
