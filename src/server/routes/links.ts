/**
 * @module
 * `POST /v1/admin/links` (admin key): a person's email links for the site's email system.
 * Body `{ site, userId | subjectId, email?, purposes?, language? }` →
 * `{ subjectId, preferencesUrl, unsubscribeUrl, renewalUrl, listUnsubscribeHeaders, expiresAt }`.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { EmailKit } from '../email/kit.ts';
import { adminActor, type AdminEnv, assertSiteAccess, requireRole } from '../protection/admin-auth.ts';
import type { AdminKeys } from '../protection/admin-keys.ts';
import { jsonBody } from './preferences.ts';

const LinksBody = v.strictObject({
  site: v.string(),
  userId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  subjectId: v.optional(v.pipe(v.string(), v.regex(/^s_[A-Za-z0-9_-]{43}$/))),
  email: v.optional(v.pipe(v.string(), v.maxLength(320))),
  purposes: v.optional(v.pipe(v.array(v.string()), v.maxLength(200))),
  language: v.optional(v.picklist(['it', 'en'])),
});

export function linksRoutes(deps: { kit: EmailKit; adminKeys: AdminKeys }): Hono<AdminEnv> {
  const { kit } = deps;
  const app = new Hono<AdminEnv>();
  app.post('/v1/admin/links', requireRole(deps, 'admin'), async (c) => {
    const body = await jsonBody(c, LinksBody);
    const siteId = assertSiteAccess(c.get('admin'), body.site);
    const links = await kit.links.mint({
      siteId,
      ...(body.userId !== undefined ? { userId: body.userId } : {}),
      ...(body.subjectId !== undefined ? { subjectId: body.subjectId } : {}),
      ...(body.email !== undefined ? { email: body.email } : {}),
      ...(body.purposes ? { purposes: body.purposes } : {}),
      ...(body.language ? { language: body.language } : {}),
      baseUrl: kit.baseUrl(c),
    });
    if (body.email !== undefined)
      await kit.deps.protection?.accessLog.append({
        actor: adminActor(c),
        action: 'contact.write',
        siteId,
        subjectId: links.subjectId,
      });
    c.header('Cache-Control', 'no-store');
    return c.json(links, 201);
  });
  return app;
}
