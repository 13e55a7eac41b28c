// Starts the real receipt server (`bin/assenso.js serve`) as a child process on a free loopback port, on a
// throw-away database: a temporary PGlite data directory, or a fresh PostgreSQL database dropped at `stop()`.
// Used by the e2e harness (e2e/harness.ts re-exports it with types) and by the ingest benchmark.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from './demo-server.mjs';

export const SERVER_BIN = join(ROOT, 'bin', 'assenso.js');

/** The PostgreSQL tests and benchmarks use (as test/helpers/databases.ts). */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A free TCP port on loopback (the kernel picks it; released just before the child binds it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether the PostgreSQL of the tests answers (a developer machine may have none; CI always must). */
export async function postgresReachable() {
  const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

/** Creates an empty PostgreSQL database; returns its URL and a function that drops it. */
export async function createPostgresDatabase() {
  const name = `assenso_tmp_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

async function healthy(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * @param {{ driver?: 'pglite' | 'postgres', sites?: object[], origins?: string[], config?: object,
 *   env?: Record<string, string>, timeoutMs?: number }} [options]
 *   `sites` defaults to one site `demo` allowing `origins`; `config` adds server-wide keys (rate limits are
 *   off unless given).
 */
export async function startReceiptServer(options = {}) {
  const driver = options.driver ?? 'pglite';
  const dir = mkdtempSync(join(tmpdir(), 'assenso-server-'));
  const database = driver === 'postgres' ? await createPostgresDatabase() : undefined;
  const sites = options.sites ?? [{ id: 'demo', origins: options.origins ?? ['http://127.0.0.1'] }];
  const configFile = join(dir, 'assenso.config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      sites,
      dataDir: join(dir, 'data'),
      rateLimit: false,
      logLevel: 'warn',
      ...options.config,
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const output = [];
  let child;

  const env = { ...process.env, ASSENSO_CONFIG: configFile, ...options.env };
  if (database) env.DATABASE_URL = database.url;
  else delete env.DATABASE_URL;

  async function start() {
    child = spawn(process.execPath, [SERVER_BIN, 'serve', '--port', String(port), '--host', '127.0.0.1'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d) => {
      output.push(d.toString('utf8'));
      if (output.length > 400) output.splice(0, output.length - 400);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (!(await healthy(url, child, options.timeoutMs ?? 120_000))) {
      child.kill('SIGKILL');
      throw new Error(`assenso serve (${driver}) did not become healthy at ${url}:\n${output.join('')}`);
    }
  }

  function exited() {
    return new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  await start();
  return {
    url,
    port,
    driver,
    /** The server process id (changes on `restart()`). */
    get pid() {
      return child.pid;
    },
    dataDir: join(dir, 'data'),
    /** The PostgreSQL database URL (driver postgres). */
    databaseUrl: database?.url,
    /** What the server printed so far (for failure messages). */
    output: () => output.join(''),
    /** Stops it abruptly, as a crash or `kill -9` would. */
    async kill() {
      child.kill('SIGKILL');
      await exited();
    },
    /** Starts it again on the same port and data after `kill()` or `terminate()`. */
    restart: start,
    /** Stops it gracefully (SIGTERM) without removing its data. */
    async terminate() {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited();
      clearTimeout(t);
    },
    /**
     * Runs SQL on the server's database and returns the rows. PostgreSQL: any time. PGlite holds its
     * directory exclusively, so only while the server is stopped (after `kill()` or `terminate()`).
     */
    async query(sql, params = []) {
      if (database) {
        const c = new pg.Client({ connectionString: database.url });
        await c.connect();
        try {
          return (await c.query(sql, params)).rows;
        } finally {
          await c.end();
        }
      }
      if (child.exitCode === null && child.signalCode === null)
        throw new Error('query(): PGlite is held by the running server; kill() or terminate() it first');
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create({ dataDir: join(dir, 'data', 'pglite') });
      try {
        return (await db.query(sql, params)).rows;
      } finally {
        await db.close();
      }
    },
    /** Stops it and removes its data (temporary directory, PostgreSQL database). */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited();
        clearTimeout(t);
      }
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
