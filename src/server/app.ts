/**
 * @module
 * The HTTP app: `createApp(deps)` returns a Hono app (no listening, no environment reads), so tests call
 * `app.request(...)` in process and `main.ts` serves the same app on Node.
 *
 * Routes live in `routes/<resource>.ts`, each a factory `xRoutes(deps)` returning a Hono app with full paths
 * (`/v1/...`); mount yours below with one `app.route('/', xRoutes(deps))` line.
 * Errors: throw `HttpProblem` (errors.ts); the one `onError` here turns it into problem+json. Anything else
 * thrown is logged and answered with a bare 500 that reveals nothing.
 */
import { Hono } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { createRateLimitRepo } from './db/rate-limit-repo.ts';
import type { AppDeps, AppEnv } from './deps.ts';
import { emailRoutes } from './email/mount.ts';
import { HttpProblem, problemResponse } from './errors.ts';
import { answerHeaders } from './http/answer-headers.ts';
import { cors } from './http/cors.ts';
import { observe, requestLog } from './http/observe.ts';
import { rateLimit } from './http/rate-limit.ts';
import { securityHeaders } from './http/security-headers.ts';
import { createMetrics } from './metrics.ts';
import { adminRoutes } from './routes/admin.ts';
import { consentRoutes } from './routes/consent.ts';
import { healthRoutes } from './routes/health.ts';
import { identityRoutes } from './routes/identity.ts';
import { keysRoutes } from './routes/keys.ts';
import { logRoutes } from './routes/log.ts';
import { receiptsRoutes } from './routes/receipts.ts';
import { widgetRoutes } from './routes/widget.ts';

/** Builds the app. `deps.metrics` is created when absent and is the registry `/metrics` exposes. */
export function createApp(input: AppDeps): Hono<AppEnv> {
  const deps: AppDeps = { ...input, metrics: input.metrics ?? createMetrics() };
  const { config } = deps;
  const app = new Hono<AppEnv>();

  app.use('*', answerHeaders());
  app.use(
    '*',
    observe({
      logger: deps.logger,
      metrics: deps.metrics as NonNullable<AppDeps['metrics']>,
      trustProxy: config.trustProxy,
    }),
  );
  app.use('*', securityHeaders({ hsts: config.publicUrl?.startsWith('https:') ?? false }));
  app.use(
    '*',
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        problemResponse(
          c,
          new HttpProblem(405, 'method-not-allowed', undefined, {}, { Allow: methods.join(', ') }),
        ),
    }),
  );
  app.use('/v1/*', cors(config, { methods: ['GET', 'POST', 'DELETE', 'OPTIONS'] }));
  if (config.rateLimit !== false) {
    const repo = createRateLimitRepo(deps.db, {
      onError: (err) => deps.logger.warn({ err }, 'rate-limit counters not shared: sync failed'),
    });
    const { windowSeconds, receipts, reads } = config.rateLimit;
    const writes = rateLimit({ repo, now: deps.now, bucket: 'receipts', limit: receipts, windowSeconds });
    const others = rateLimit({ repo, now: deps.now, bucket: 'reads', limit: reads, windowSeconds });
    // Middleware, not routes per method: routes made every method of /v1/* look allowed, and a wrong one got
    // 404 instead of 405 with `Allow`. (A preflight is neither write nor read.)
    app.use('/v1/*', (c, next) =>
      c.req.method === 'POST' ? writes(c, next) : c.req.method === 'OPTIONS' ? next() : others(c, next),
    );
  }

  app.route('/', healthRoutes(deps));
  app.route('/', keysRoutes(deps));
  app.route('/', receiptsRoutes(deps));
  app.route('/', consentRoutes(deps));
  app.route('/', logRoutes(deps));
  if (deps.pseudonymizer) app.route('/', identityRoutes({ ...deps, pseudonymizer: deps.pseudonymizer }));
  app.route('/', widgetRoutes(deps));
  app.route('/', emailRoutes(deps));
  if (deps.protection) app.route('/', adminRoutes({ ...deps, protection: deps.protection }));

  app.notFound((c) => problemResponse(c, new HttpProblem(404, 'not-found', `No resource at ${c.req.path}`)));
  app.onError((err, c) => {
    if (err instanceof HttpProblem) return problemResponse(c, err);
    (c.get('logger') ? requestLog(c) : deps.logger).error({ err }, 'unhandled error');
    return c.body(null, 500);
  });
  return app;
}
