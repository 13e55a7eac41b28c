/**
 * @module
 * Opens the configured database: PostgreSQL when `DATABASE_URL` is set, else PGlite in `<dataDir>/pglite`,
 * locked to this process (see data-dir-lock.ts). Used by `serve`, `migrate` and every command that reads data.
 */
import { join, resolve } from 'node:path';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import type { Db } from './db.ts';
import { createPgliteDb } from './pglite.ts';
import { createPostgresDb } from './postgres.ts';

export interface OpenedDb {
  db: Db;
  /** Human description for logs, without credentials. */
  description: string;
  /** Closes the database and releases the data directory. */
  close(): Promise<void>;
}

/** `postgres://user:secret@host/db` → `postgres://user@host/db`. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return u.toString();
  } catch {
    return 'postgres (unparsable DATABASE_URL)';
  }
}

export function openDatabase(opts: {
  dataDir: string;
  env: Record<string, string | undefined>;
  poolSize?: number;
}): OpenedDb {
  const url = opts.env.DATABASE_URL;
  if (url) {
    const db = createPostgresDb(url, { max: opts.poolSize ?? 10 });
    return { db, description: redact(url), close: () => db.close() };
  }
  const dir = resolve(opts.dataDir);
  const lock: DataDirLock = lockDataDir(dir);
  const path = join(dir, 'pglite');
  const db = createPgliteDb(path);
  return {
    db,
    description: `PGlite at ${path}`,
    async close() {
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}
