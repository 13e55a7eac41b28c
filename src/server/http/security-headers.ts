/**
 * @module
 * Defaults for every answer; a route that serves something else (HTML pages, the widget script) sets its own
 * values first and they are kept.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps.ts';
import { answerHeadersOf } from './answer-headers.ts';

const DEFAULTS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // API answers are data: nothing in them may run, load or be framed.
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
};

export function securityHeaders(opts: { hsts: boolean }): MiddlewareHandler<AppEnv> {
  // HSTS only means something over HTTPS; sent when the public URL is https.
  const defaults = opts.hsts ? { ...DEFAULTS, 'strict-transport-security': 'max-age=31536000' } : DEFAULTS;
  return (c, next) => {
    const record = answerHeadersOf(c).defaults;
    for (const name in defaults) record[name] = defaults[name] as string;
    return next();
  };
}
