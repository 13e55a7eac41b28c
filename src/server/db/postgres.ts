import pg from 'pg';
import type { Db, Queryable, QueryOptions, QueryResult } from './db.ts';

// int8 (sequence numbers, counts) as JS numbers: our values stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/** The `options` parameter of a postgres:// URL, if any. */
function urlOptions(connectionString: string): string {
  try {
    return new URL(connectionString).searchParams.get('options') ?? '';
  } catch {
    return '';
  }
}

/**
 * PostgreSQL driver: a connection pool, opened lazily on the first query.
 * `schema` puts every table of this instance in its own PostgreSQL schema (tests run side by side that way).
 */
export function createPostgresDb(
  connectionString: string,
  options: { max?: number; schema?: string } = {},
): Db {
  let pool: pg.Pool | undefined;
  const getPool = () => {
    pool ??= new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      // A 2xx means committed: keep synchronous_commit on even where the server's default turned it off.
      // Options given in the URL (`?options=-c search_path=…`) are kept; ours come last and win.
      options: [
        urlOptions(connectionString),
        '-c synchronous_commit=on',
        options.schema ? `-c search_path=${options.schema}` : '',
      ]
        .filter(Boolean)
        .join(' '),
    });
    return pool;
  };
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<T>(
      sql: string,
      params: readonly unknown[] = [],
      options?: QueryOptions,
    ): Promise<QueryResult<T>> {
      const values = params as unknown[];
      const res = await (options?.name
        ? client.query({ name: options.name, text: sql, values })
        : client.query(sql, values));
      return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
    },
  });
  return {
    driver: 'postgres',
    query: (sql, params, options) => wrap(getPool()).query(sql, params, options),
    async transaction(fn) {
      const client = await getPool().connect();
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool?.end();
      pool = undefined;
    },
  };
}
