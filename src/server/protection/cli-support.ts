/**
 * @module
 * What the protection commands (`assenso admin-keys | keys | retention | access-log`) share: the configured
 * database (migrated), the protection services and the operator's secrets, opened from the same settings
 * `assenso serve` uses. A PGlite data directory is held by one process: stop the server first, or run the
 * commands against PostgreSQL (DATABASE_URL), where they work beside running servers.
 */
import { resolve } from 'node:path';
import type { CliContext } from '../commands/command.ts';
import { loadConfig, type ServerConfig } from '../config.ts';
import { createPseudonymizer, loadPseudonymSecret } from '../crypto/pseudonym.ts';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { openDatabase } from '../db/open.ts';
import { createMemoryKeyring, type Keyring, loadVerificationKeyring } from '../log/keys.ts';
import { loadContactKeys } from './contact-crypto.ts';
import { createProtection, type Protection } from './protection.ts';

export interface ProtectionCli {
  config: ServerConfig;
  db: Db;
  protection: Protection;
  /** The server's public keys (verifies signed heads; signs nothing here). */
  keyring: Keyring | null;
  close(): Promise<void>;
}

export async function openProtectionCli(
  ctx: CliContext,
  configPath: string | undefined,
): Promise<ProtectionCli> {
  const config = await loadConfig({ configPath, env: ctx.env, cwd: ctx.cwd });
  const dataDir = resolve(ctx.cwd, config.dataDir);
  const opened = openDatabase({ dataDir, env: ctx.env, poolSize: 2 });
  try {
    await migrate(opened.db);
    const keyring = await loadVerificationKeyring({ dataDir, env: ctx.env }).catch(() => null);
    // Read, never made: a command run from another directory must not mint other pseudonyms (or keys).
    const pseudonymizer = createPseudonymizer(
      await loadPseudonymSecret({ dataDir, env: ctx.env, create: false }),
    );
    const protection = createProtection({
      db: opened.db,
      // Commands never sign: a throwaway key stands in where the services want a signer.
      keyring: keyring ?? createMemoryKeyring(),
      now: Date.now,
      contactKeys: await loadContactKeys({ env: ctx.env, dataDir, create: false }),
      pseudonymizer,
    });
    return { config, db: opened.db, protection, keyring, close: opened.close };
  } catch (err) {
    await opened.close().catch(() => {});
    throw err;
  }
}

/** Fixed-width table for terminal output. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
