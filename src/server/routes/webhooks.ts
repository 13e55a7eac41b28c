/**
 * @module
 * `GET /v1/admin/webhooks/deliveries?site=&state=pending|delivered|dead&limit=` (admin, operator): the webhook
 * queue of a site, newest first, to see what a CRM has not received yet and why.
 */
import { Hono } from 'hono';
import { HttpProblem } from '../errors.ts';
import type { EmailKit } from '../email/kit.ts';
import { listDeliveries } from '../email/webhooks-repo.ts';
import { type AdminEnv, assertSiteAccess, requireRole } from '../protection/admin-auth.ts';
import type { AdminKeys } from '../protection/admin-keys.ts';

const STATES = new Set(['pending', 'delivered', 'dead']);

export function webhooksRoutes(deps: { kit: EmailKit; adminKeys: AdminKeys }): Hono<AdminEnv> {
  const { kit } = deps;
  const app = new Hono<AdminEnv>();
  app.get('/v1/admin/webhooks/deliveries', requireRole(deps, 'admin', 'operator'), async (c) => {
    const siteId = assertSiteAccess(c.get('admin'), c.req.query('site'));
    const state = c.req.query('state');
    if (state !== undefined && !STATES.has(state))
      throw new HttpProblem(422, 'invalid-request', 'state must be pending, delivered or dead');
    const limit = Math.min(Number(c.req.query('limit') ?? 100) || 100, 1000);
    const rows = await listDeliveries(kit.deps.db, siteId, { ...(state ? { state } : {}), limit });
    return c.json({
      siteId,
      deliveries: rows.map(({ payload: _payload, ...rest }) => rest),
    });
  });
  return app;
}
