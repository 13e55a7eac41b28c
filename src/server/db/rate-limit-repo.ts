/**
 * @module
 * Fixed-window request counters in the database, so that every server instance counts against one limit.
 */
import type { Queryable } from './db.ts';

export interface RateLimitRepo {
  /** Counts one hit for `key` in the window starting at `windowStart` (epoch ms); returns the window's hits. */
  hit(key: string, windowStart: number): Promise<number>;
  /** Deletes windows that started before `before` (epoch ms). */
  prune(before: number): Promise<number>;
}

export function createRateLimitRepo(db: Queryable): RateLimitRepo {
  return {
    async hit(key, windowStart) {
      const res = await db.query<{ hits: number }>(
        `INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1
         RETURNING hits`,
        [key, windowStart],
      );
      return Number(res.rows[0]?.hits ?? 1);
    },
    async prune(before) {
      return (await db.query('DELETE FROM rate_limits WHERE window_start < $1', [before])).rowCount;
    },
  };
}
