/**
 * @module
 * What the email commands (`assenso links | renewals | erasure`) share: the protection CLI's database and
 * services (protection/cli-support.ts), the pseudonymizer and the link-signing keys, as `serve` loads them.
 */
import { resolve } from 'node:path';
import type { CliContext } from '../commands/command.ts';
import { UsageError } from '../commands/command.ts';
import { createPseudonymizer, loadPseudonymSecret } from '../crypto/pseudonym.ts';
import { createMemoryKeyring } from '../log/keys.ts';
import { openProtectionCli, type ProtectionCli } from '../protection/cli-support.ts';
import { createEmailKit, type EmailKit } from './kit.ts';
import { loadLinkKeys } from './link-keys.ts';

export interface EmailCli extends ProtectionCli {
  kit: EmailKit;
  /** The origin links start with (`--base-url`, else config `publicUrl`). */
  baseUrl: string;
}

export async function openEmailCli(
  ctx: CliContext,
  opts: { config?: string | undefined; baseUrl?: string | undefined },
): Promise<EmailCli> {
  const cli = await openProtectionCli(ctx, opts.config);
  try {
    const dataDir = resolve(ctx.cwd, cli.config.dataDir);
    const baseUrl = opts.baseUrl ?? cli.config.publicUrl;
    if (!baseUrl)
      throw new UsageError('links need an origin: set publicUrl in the configuration or pass --base-url');
    const kit = createEmailKit({
      db: cli.db,
      config: cli.config,
      // These commands record no receipt: nothing here is signed with the receipt keys.
      keyring: cli.keyring ?? createMemoryKeyring(),
      now: Date.now,
      pseudonymizer: createPseudonymizer(await loadPseudonymSecret({ dataDir, env: ctx.env, create: false })),
      linkKeys: await loadLinkKeys({ env: ctx.env, dataDir }),
      protection: cli.protection,
    });
    return { ...cli, kit, baseUrl: baseUrl.replace(/\/+$/, '') };
  } catch (err) {
    await cli.close().catch(() => {});
    throw err;
  }
}

/** CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(value: string | number | null | undefined): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
