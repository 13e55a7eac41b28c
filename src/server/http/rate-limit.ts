/**
 * @module
 * Per-client fixed-window rate limit, counted in memory and shared with other instances through the database
 * about once a second (db/rate-limit-repo.ts). Over the limit:
 * 429 problem with `Retry-After` = seconds until the window ends.
 */
import type { MiddlewareHandler } from 'hono';
import type { RateLimitRepo } from '../db/rate-limit-repo.ts';
import type { AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { answerHeadersOf } from './answer-headers.ts';
import { requestLog } from './observe.ts';

export interface RateLimitOptions {
  repo: RateLimitRepo;
  now: () => number;
  /** Counter name, part of the key (`receipts`, `reads`). */
  bucket: string;
  limit: number;
  windowSeconds: number;
}

/** About one request in this many also deletes old windows, so the table stays small without a timer. */
const PRUNE_EVERY = 500;

export function rateLimit(opts: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const windowMs = opts.windowSeconds * 1000;
  const policy = `${opts.limit};w=${opts.windowSeconds}`;
  return async (c, next) => {
    const now = opts.now();
    const windowStart = now - (now % windowMs);
    const hits = await opts.repo.hit(`${opts.bucket}:${c.get('clientIp')}`, windowStart);
    if (Math.random() * PRUNE_EVERY < 1)
      opts.repo
        .prune(windowStart - windowMs)
        .catch((err) => requestLog(c).warn({ err }, 'rate-limit prune failed'));
    if (hits > opts.limit) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));
      throw new HttpProblem(
        429,
        'rate-limited',
        `More than ${opts.limit} requests in ${opts.windowSeconds} s; retry after ${retryAfter} s`,
        { retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
    answerHeadersOf(c).defaults['ratelimit-policy'] = policy;
    await next();
  };
}
