/**
 * @module
 * `POST /v1/admin/links` (admin key): a person's email links for the site's email system.
 * Body `{ site, userId | subjectId, email?, purposes?, language? }` →
 * `{ subjectId, preferencesUrl, unsubscribeUrl, renewalUrl, listUnsubscribeHeaders, expiresAt }`.
 *
 * `POST /v1/email-link/device` `{ site, deviceId, token }` (from the widget, on the site's own origin): a
 * preference link opened on the site links the browser's device to the link's person → `{ linked, moved }`.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { linkDeviceByToken } from '../email/device-link.ts';
import type { EmailKit } from '../email/kit.ts';
import { tokenProblem } from '../email/kit.ts';
import { LinkTokenError } from '../email/tokens.ts';
import { findSite } from '../config.ts';
import { HttpProblem } from '../errors.ts';
import { originAllowed } from '../services/origin-policy.ts';
import { DeviceIdSchema } from '../../protocol/receipt.ts';
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

const DeviceLinkBody = v.strictObject({
  site: v.string(),
  deviceId: DeviceIdSchema,
  token: v.pipe(v.string(), v.maxLength(1024)),
});

/** The widget's exchange of a preference link for a device link (no admin key: the token is the credential). */
export function deviceLinkRoutes(deps: { kit: EmailKit }): Hono {
  const { kit } = deps;
  const app = new Hono();
  app.post('/v1/email-link/device', async (c) => {
    const body = await jsonBody(c, DeviceLinkBody);
    const site = findSite(kit.deps.config, body.site);
    if (!site) throw new HttpProblem(404, 'unknown-site', `No site ${body.site} on this server`);
    const origin = c.req.header('origin');
    const secFetchSite = c.req.header('sec-fetch-site');
    if (!originAllowed(site, { ...(origin ? { origin } : {}), ...(secFetchSite ? { secFetchSite } : {}) }))
      throw new HttpProblem(
        403,
        'origin-not-allowed',
        `Origin ${origin ?? '(none)'} may not link devices of ${site.id}`,
      );
    await kit.refreshKeys();
    try {
      const ua = c.req.header('user-agent');
      const result = await linkDeviceByToken(
        { db: kit.deps.db, tokens: kit.tokens, now: kit.deps.now },
        { siteId: site.id, deviceId: body.deviceId, token: body.token, ...(ua ? { userAgent: ua } : {}) },
      );
      c.header('Cache-Control', 'no-store');
      return c.json({ linked: result.linked, moved: result.moved });
    } catch (err) {
      if (err instanceof LinkTokenError) throw tokenProblem(err);
      throw err;
    }
  });
  return app;
}

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
