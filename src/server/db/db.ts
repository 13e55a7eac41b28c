/**
 * The one storage contract. Two drivers implement it: PGlite (embedded, default) and PostgreSQL
 * (`DATABASE_URL`). Both speak the PostgreSQL dialect with `$1` placeholders; all SQL lives in the `*-repo.ts`
 * files, services only see repositories.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Prepared-statement name for a hot statement whose text never changes: PostgreSQL parses and plans it once
   * per connection instead of on every call. PGlite ignores it.
   */
  name?: string;
}

export interface Queryable {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<T>>;
}

export interface Db extends Queryable {
  readonly driver: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
