/**
 * @module
 * CORS for the configured sites only. The allowed origin is echoed (never `*`, never `null`) with
 * `Vary: Origin` so that caches keep one answer per origin. A preflight from any other origin is refused.
 * CORS only protects what a browser lets a page read: requests that skip the preflight (sendBeacon with
 * text/plain) are checked again on the server against the site of each receipt (see `origin-check.ts`).
 */
import type { MiddlewareHandler } from 'hono';
import type { ServerConfig } from '../config.ts';
import type { AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { answerHeadersOf } from './answer-headers.ts';

/** Every origin that any configured site allows. */
export function allowedOrigins(config: ServerConfig): Set<string> {
  return new Set(config.sites.flatMap((s) => s.origins));
}

export interface CorsOptions {
  /** Methods answered to a preflight. */
  methods?: readonly string[];
  /** Request headers a page may send. */
  headers?: readonly string[];
}

/** Chromium caps preflight caching at 2 hours; 10 minutes keeps configuration changes quick to apply. */
const PREFLIGHT_MAX_AGE = 600;

export function cors(config: ServerConfig, options: CorsOptions = {}): MiddlewareHandler<AppEnv> {
  const origins = allowedOrigins(config);
  const methods = (options.methods ?? ['GET', 'POST', 'OPTIONS']).join(', ');
  const headers = (options.headers ?? ['Content-Type', 'Authorization']).join(', ');
  return async (c, next) => {
    const origin = c.req.header('origin');
    const allowed = origin !== undefined && origins.has(origin);
    if (c.req.method === 'OPTIONS' && c.req.header('access-control-request-method')) {
      c.header('Vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      if (!allowed)
        throw new HttpProblem(403, 'origin-not-allowed', `Origin ${origin ?? '(none)'} is not allowed`);
      c.header('Access-Control-Allow-Origin', origin);
      c.header('Access-Control-Allow-Methods', methods);
      c.header('Access-Control-Allow-Headers', headers);
      c.header('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE));
      return c.body(null, 204);
    }
    const h = answerHeadersOf(c);
    h.vary.push('Origin');
    if (allowed) {
      h.set['access-control-allow-origin'] = origin;
      h.set['access-control-expose-headers'] = 'Retry-After, ETag';
    }
    await next();
  };
}
