/**
 * @module
 * Per-request id, structured log line and metrics. Logs carry method, route, status and duration; never
 * bodies, tokens or query strings (a query may hold a device id or an email-link token).
 */
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import type { AppEnv } from '../deps.ts';
import { redactLinkTokens } from '../email/redact.ts';
import type { Metrics } from '../metrics.ts';
import { answerHeadersOf } from './answer-headers.ts';
import { clientIp } from './client-ip.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The request's logger: a child of the app's carrying the request id, made on first use. Most requests log
 * nothing (below the info level); a pino child made for each one cost ~3% of an ingest request's CPU.
 */
export function requestLog(c: Context<AppEnv>): Logger {
  let log = c.get('log');
  if (log === undefined) {
    log = c.get('logger').child({ requestId: c.get('requestId') });
    c.set('log', log);
  }
  return log;
}

/** The matched route pattern, or `unmatched` (keeps metric label cardinality bounded). */
function routeLabel(c: Parameters<MiddlewareHandler>[0]): string {
  const last = matchedRoutes(c).at(-1);
  return last && last.method !== 'ALL' ? last.path : 'unmatched';
}

export function observe(deps: {
  logger: Logger;
  metrics: Metrics;
  trustProxy: boolean | number;
}): MiddlewareHandler<AppEnv> {
  const requests = deps.metrics.counter(
    'assenso_http_requests_total',
    'HTTP requests by route, method and status.',
  );
  const latency = deps.metrics.histogram(
    'assenso_http_request_duration_seconds',
    'HTTP request latency by route, in seconds.',
  );
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.set('logger', deps.logger);
    c.set('clientIp', clientIp(c, deps.trustProxy));
    answerHeadersOf(c).set['x-request-id'] = requestId;
    await next();
    const route = routeLabel(c);
    const status = c.res.status;
    const seconds = (performance.now() - started) / 1000;
    requests.inc({ route, method: c.req.method, status: String(status) });
    latency.observe(seconds, { route });
    if (!deps.logger.isLevelEnabled('info')) return;
    requestLog(c).info(
      {
        method: c.req.method,
        path: redactLinkTokens(c.req.path),
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
      },
      'request',
    );
  };
}
