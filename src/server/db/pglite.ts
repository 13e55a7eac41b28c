import { PGlite } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.ts';

/**
 * Embedded PostgreSQL (PGlite, WASM): zero set-up. `dataDir` undefined keeps everything in memory (tests).
 * PGlite is one connection: it serialises queries and transactions itself.
 */
export function createPgliteDb(dataDir?: string): Db {
  let client: Promise<PGlite> | undefined;
  const getClient = () => {
    // relaxedDurability false (the default, stated here on purpose): a query resolves only after PGlite has
    // written its changes to the data directory, so an acknowledged commit survives a killed process.
    client ??= PGlite.create(dataDir ? { dataDir, relaxedDurability: false } : {});
    return client;
  };
  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      const res = await q.query<T>(sql, params as unknown[]);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
    },
  });
  return {
    driver: 'pglite',
    query: async (sql, params) => wrap(await getClient()).query(sql, params),
    async transaction(fn) {
      const db = await getClient();
      return db.transaction((tx) => fn(wrap(tx)));
    },
    async close() {
      if (client) await (await client).close();
      client = undefined;
    },
  };
}
