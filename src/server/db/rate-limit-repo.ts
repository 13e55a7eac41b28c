/**
 * @module
 * Fixed-window request counters. Each instance counts in memory (no database round trip per request) and adds
 * its new hits to the shared `rate_limits` table at most once per `syncMs`, in one statement, reading back each
 * window's total across instances. One instance is therefore exact; with several, a client can exceed the
 * limit by what the other instances admitted since their last sync (about one second's worth): the limiter
 * protects the database from floods, it is not a quota.
 */
import type { Queryable } from './db.ts';

export interface RateLimitRepo {
  /** Counts one hit for `key` in the window starting at `windowStart` (epoch ms); returns the window's hits. */
  hit(key: string, windowStart: number): Promise<number>;
  /** Deletes windows that started before `before` (epoch ms). */
  prune(before: number): Promise<number>;
}

export interface RateLimitRepoOptions {
  /** Most time between a hit and its addition to the shared table, in ms (default 1000). */
  syncMs?: number;
  /** Where a failed sync is reported (its hits are kept and sent with the next one). */
  onError?: (err: unknown) => void;
}

interface Window {
  key: string;
  windowStart: number;
  /** Hits counted here and not yet added to the table. */
  unsynced: number;
  /** Hits being added to the table by the sync in progress. */
  sending: number;
  /** The window's total in the table at the last sync (every instance's hits, ours included). */
  shared: number;
}

export function createRateLimitRepo(
  db: Queryable,
  options: RateLimitRepoOptions = {},
): RateLimitRepo & { sync(): Promise<void> } {
  const syncMs = options.syncMs ?? 1000;
  const windows = new Map<string, Window>();
  let newestStart = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;

  let syncing: Promise<void> | undefined;
  // One sync at a time; hits counted meanwhile go with the next one.
  const sync = (): Promise<void> =>
    (syncing ??= send().finally(() => {
      syncing = undefined;
      for (const w of windows.values()) if (w.unsynced > 0) return schedule();
    }));

  async function send(): Promise<void> {
    // Windows that have ended and have nothing left to send are no longer asked about: forget them.
    for (const [id, w] of windows) if (w.unsynced === 0 && w.windowStart < newestStart) windows.delete(id);
    const batch = [...windows.values()].filter((w) => w.unsynced > 0);
    if (batch.length === 0) return;
    const sent = batch.map((w) => w.unsynced);
    for (const w of batch) {
      w.sending = w.unsynced;
      w.unsynced = 0;
    }
    try {
      const res = await db.query<{ key: string; window_start: number | string; hits: number }>(
        `INSERT INTO rate_limits (key, window_start, hits)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[]) ORDER BY 1, 2
         ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + EXCLUDED.hits
         RETURNING key, window_start, hits`,
        [batch.map((w) => w.key), batch.map((w) => w.windowStart), sent],
      );
      for (const row of res.rows) {
        const w = windows.get(`${Number(row.window_start)} ${row.key}`);
        if (w) w.shared = Number(row.hits);
      }
      for (const w of batch) w.sending = 0;
    } catch (err) {
      for (const w of batch) {
        w.unsynced += w.sending;
        w.sending = 0;
      }
      throw err;
    }
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      sync().catch((err) => options.onError?.(err));
    }, syncMs);
    // Counting alone must not keep a process alive.
    timer.unref();
  }

  return {
    async hit(key, windowStart) {
      const id = `${windowStart} ${key}`;
      let w = windows.get(id);
      if (!w) {
        w = { key, windowStart, unsynced: 0, sending: 0, shared: 0 };
        windows.set(id, w);
      }
      newestStart = Math.max(newestStart, windowStart);
      w.unsynced++;
      schedule();
      return w.shared + w.sending + w.unsynced;
    },
    async prune(before) {
      return (await db.query('DELETE FROM rate_limits WHERE window_start < $1', [before])).rowCount;
    },
    sync,
  };
}
