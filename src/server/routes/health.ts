/**
 * @module
 * `GET /healthz`: 200 when the database answers, 503 problem otherwise (for load balancers and orchestrators).
 * `GET /metrics`: the Prometheus registry.
 */
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { requestLog } from '../http/observe.ts';
import { createMetrics } from '../metrics.ts';

export function healthRoutes(deps: AppDeps): Hono<AppEnv> {
  const metrics = deps.metrics ?? createMetrics();
  const app = new Hono<AppEnv>();
  app.get('/healthz', async (c) => {
    try {
      await deps.db.query('SELECT 1');
    } catch (err) {
      requestLog(c).error({ err }, 'health check: database unreachable');
      throw new HttpProblem(503, 'unavailable', 'Database unreachable');
    }
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok', driver: deps.db.driver });
  });
  app.get('/metrics', (c) => {
    c.header('Cache-Control', 'no-store');
    c.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    return c.body(metrics.render());
  });
  return app;
}
