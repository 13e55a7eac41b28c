/**
 * @module
 * `assenso admin-keys create|list|revoke`: API keys for the admin API, with a role and an optional site.
 */
import { parseArgs } from 'node:util';
import { findSite } from '../config.ts';
import { ADMIN_ROLES, type AdminRole, UnknownAdminKeyError } from '../protection/admin-keys.ts';
import { iso, openProtectionCli, table } from '../protection/cli-support.ts';
import { type Command, UsageError } from './command.ts';

export const command: Command = {
  summary: 'Create, list and revoke admin API keys (roles admin, operator, auditor)',
  usage: `assenso admin-keys create --role admin|operator|auditor [--site ID] [--label TEXT] [--json]
assenso admin-keys list [--json]
assenso admin-keys revoke KEY_ID

  create   prints the new key (ask_<id>_<secret>) once: only a hash of it is stored
           admin: everything; operator: contact data masked; auditor: receipts, proofs, exports, no contact data
  --site   limit the key to one configured site (default: every site)
  --label  a note for the list (who holds the key)
  list     every key with its role, site, creation and last use (never the secret)
  revoke   the key stops working at once

Common: --config FILE. With PGlite, run these while the server is stopped (one process per data directory).`,
  async run(ctx) {
    const [action, ...rest] = ctx.argv;
    const { values, positionals } = parseArgs({
      args: rest,
      options: {
        role: { type: 'string' },
        site: { type: 'string' },
        label: { type: 'string' },
        json: { type: 'boolean' },
        config: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (action !== 'create' && action !== 'list' && action !== 'revoke')
      throw new UsageError('expected create, list or revoke');
    if (action === 'create') {
      if (!values.role || !ADMIN_ROLES.includes(values.role as AdminRole))
        throw new UsageError(`--role must be one of ${ADMIN_ROLES.join(', ')}`);
    }
    if (action === 'revoke' && !/^[0-9a-f]{16}$/.test(positionals[0] ?? ''))
      throw new UsageError('revoke needs the key id (16 hex digits, as `list` shows it)');
    const cli = await openProtectionCli(ctx, values.config);
    try {
      const { adminKeys } = cli.protection;
      if (action === 'create') {
        if (values.site && !findSite(cli.config, values.site))
          throw new UsageError(`--site ${values.site} is not a configured site`);
        const key = await adminKeys.create({
          role: values.role as AdminRole,
          siteId: values.site ?? null,
          label: values.label ?? '',
        });
        if (values.json) ctx.stdout(`${JSON.stringify(key)}\n`);
        else
          ctx.stdout(
            `${key.token}\n\nKey ${key.keyId}: role ${key.role}, ${key.siteId ? `site ${key.siteId}` : 'every site'}.\n` +
              'Store it now: it is not shown again. Use it as `Authorization: Bearer <key>`.\n',
          );
        return 0;
      }
      if (action === 'list') {
        const keys = await adminKeys.list();
        if (values.json) ctx.stdout(`${JSON.stringify(keys)}\n`);
        else
          ctx.stdout(
            table([
              ['KEY ID', 'ROLE', 'SITE', 'CREATED', 'LAST USED', 'REVOKED', 'LABEL'],
              ...keys.map((k) => [
                k.keyId,
                k.role,
                k.siteId ?? '*',
                iso(k.createdAt),
                iso(k.lastUsedAt),
                iso(k.revokedAt),
                k.label,
              ]),
            ]),
          );
        return 0;
      }
      const revoked = await adminKeys.revoke(positionals[0]!).catch((err: Error) => {
        if (err instanceof UnknownAdminKeyError) return null;
        throw err;
      });
      if (!revoked) {
        ctx.stderr(`assenso admin-keys: no key ${positionals[0]}\n`);
        return 1;
      }
      ctx.stdout(`revoked ${revoked.keyId} (${revoked.role}) at ${iso(revoked.revokedAt)}\n`);
      return 0;
    } finally {
      await cli.close();
    }
  },
};
