/**
 * @module
 * `GET /v1/admin/renewals?site=&due=<date | 30d>[&after=&limit=&email=1]` (admin, operator): the people whose
 * consents (per purpose × channel) expire by `due`, with fresh links for a renewal campaign. `email=1` adds
 * the stored address (admin: in clear, operator: masked); each such read is written to the access log.
 */
import { Hono } from 'hono';
import { HttpProblem } from '../errors.ts';
import type { EmailKit } from '../email/kit.ts';
import { parseDue } from '../email/renewals-service.ts';
import { adminActor, type AdminEnv, assertSiteAccess, requireRole } from '../protection/admin-auth.ts';
import type { AdminKeys } from '../protection/admin-keys.ts';
import { maskContact } from '../protection/contact-store.ts';

export function renewalsRoutes(deps: { kit: EmailKit; adminKeys: AdminKeys }): Hono<AdminEnv> {
  const { kit } = deps;
  const app = new Hono<AdminEnv>();
  app.get('/v1/admin/renewals', requireRole(deps, 'admin', 'operator'), async (c) => {
    const admin = c.get('admin');
    const siteId = assertSiteAccess(admin, c.req.query('site'));
    kit.site(siteId);
    const dueText = c.req.query('due');
    const due = dueText ? parseDue(dueText, kit.deps.now()) : null;
    if (due === null)
      throw new HttpProblem(
        422,
        'invalid-request',
        'due must be a date (2026-05-01, ISO 8601) or a span (30d, 12h, 2w)',
      );
    const limit = Number(c.req.query('limit') ?? 500);
    if (!Number.isInteger(limit) || limit < 1 || limit > 5000)
      throw new HttpProblem(422, 'invalid-request', 'limit must be 1 to 5000');
    const withEmail = c.req.query('email') === '1';
    const after = c.req.query('after');
    const page = await kit.renewals.list({
      siteId,
      due,
      baseUrl: kit.baseUrl(c),
      limit,
      withEmail,
      ...(after ? { after } : {}),
    });
    if (withEmail) {
      for (const e of page.entries) {
        if (admin.role !== 'admin' && e.email) e.email = maskContact('email', e.email);
        await kit.deps.protection?.accessLog.append({
          actor: adminActor(c),
          action: 'renewals.contact-read',
          siteId,
          subjectId: e.subjectId,
          detail: { masked: admin.role !== 'admin' },
        });
      }
    }
    c.header('Cache-Control', 'no-store');
    return c.json({ siteId, due: new Date(page.due).toISOString(), entries: page.entries, next: page.next });
  });
  return app;
}
