/**
 * @module
 * Defaults for every answer; a route that serves something else (HTML pages, the widget script) sets its own
 * values first and they are kept.
 */
import type { MiddlewareHandler } from 'hono';

const DEFAULTS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // API answers are data: nothing in them may run, load or be framed.
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-site',
};

export function securityHeaders(opts: { hsts: boolean }): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    for (const [name, value] of Object.entries(DEFAULTS)) if (!headers.has(name)) headers.set(name, value);
    // HSTS only means something over HTTPS; sent when the public URL is https.
    if (opts.hsts && !headers.has('Strict-Transport-Security'))
      headers.set('Strict-Transport-Security', 'max-age=31536000');
  };
}
