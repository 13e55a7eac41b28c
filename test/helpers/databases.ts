import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/server/db/db.ts';
import { migrate } from '../../src/server/db/migrate.ts';
import { createPgliteDb } from '../../src/server/db/pglite.ts';
import { createPostgresDb } from '../../src/server/db/postgres.ts';

/** The PostgreSQL the tests use: the one on this machine and CI's (trust auth), unless TEST_DATABASE_URL says otherwise. */
export const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const reachable = await postgresReachable();
if (!reachable && process.env.CI) {
  throw new Error(
    `PostgreSQL is not reachable at ${POSTGRES_URL}: CI must test against it (start it, or set TEST_DATABASE_URL).`,
  );
}
if (!reachable)
  console.warn(`[tests] PostgreSQL not reachable at ${POSTGRES_URL}: its tests are SKIPPED on this machine.`);

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** Whether this driver runs here (PostgreSQL may be missing on a developer machine; never in CI). */
  available: boolean;
  /** A fresh, migrated, empty database: in-memory PGlite, or a new PostgreSQL schema dropped by `drop()`. */
  create(): Promise<Db & { drop(): Promise<void> }>;
}

/** Both drivers; run each contract with `describe.each(databases)` + `describe.skipIf(!db.available)`. */
export const databases: TestDatabase[] = [
  {
    name: 'pglite',
    available: true,
    async create() {
      const db = createPgliteDb();
      await migrate(db);
      return Object.assign(db, { drop: () => db.close() });
    },
  },
  {
    name: 'postgres',
    available: reachable,
    async create() {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      const db = createPostgresDb(POSTGRES_URL, { schema, max: 5 });
      await migrate(db);
      return Object.assign(db, {
        async drop() {
          await db.close();
          const c = new pg.Client({ connectionString: POSTGRES_URL });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        },
      });
    },
  },
];
