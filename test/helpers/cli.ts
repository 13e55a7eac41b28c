import { join } from 'node:path';
import { runCli } from '../../src/server/cli.ts';
import type { Db } from '../../src/server/db/db.ts';
import { createPgliteDb } from '../../src/server/db/pglite.ts';

/** Runs `assenso <argv>` in process with the given environment, capturing what it prints. */
export async function runCommand(
  argv: string[],
  opts: { env: Record<string, string | undefined>; cwd: string },
) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: opts.env,
    cwd: opts.cwd,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    // Commands under test never wait for a signal.
    stopSignal: new Promise(() => {}),
  });
  return { code, stdout, stderr };
}

/**
 * The database the commands use: the shared PostgreSQL schema, or the data directory's PGlite opened only
 * while no command runs (PGlite holds its directory exclusively).
 */
export async function withCommandDb<T>(
  dataDir: string,
  pg: Db | undefined,
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  if (pg) return fn(pg);
  const db = createPgliteDb(join(dataDir, 'pglite'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
