/**
 * @module
 * Erasure. From the preference page: `POST /p/erasure` shows a confirmation step carrying a one-time
 * `erasure-confirm` token (15 minutes); `POST /p/erasure/confirm` uses it once, records the request and
 * answers 303 to `GET /p/erasure/done`, the page that says it was received (Post/Redirect/Get: a reload
 * reads that page again instead of sending the form again). The same confirmation sent again (Back, then the
 * button) lands on that page too, and a person whose request is pending is sent there from the first step.
 * For the site: `POST /v1/admin/erasure` `{ site, userId | subjectId }` records a request,
 * `GET /v1/admin/erasure?site=&status=` lists them, `POST /v1/admin/erasure/run` `{ site? }` carries them out.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { ConfirmationUsed } from '../email/erasure-service.ts';
import type { EmailKit } from '../email/kit.ts';
import { LinkTokenError } from '../email/tokens.ts';
import type { PageAssets } from '../pages/assets.ts';
import { formatDate, PAGE_MESSAGES } from '../pages/messages.ts';
import { requestLanguage, sendMessagePage, sendTokenErrorPage } from '../pages/respond.tsx';
import { adminActor, type AdminEnv, assertSiteAccess, requireRole } from '../protection/admin-auth.ts';
import type { AdminKeys } from '../protection/admin-keys.ts';
import { formSession, jsonBody, pageSession, sessionEnded, subjectOf } from './preferences.ts';

export function erasurePageRoutes(deps: { kit: EmailKit; assets: PageAssets }): Hono {
  const { kit, assets } = deps;
  const app = new Hono();

  const done = (lang: string) => `/p/erasure/done?lang=${lang}`;

  app.post('/p/erasure', async (c) => {
    const r = await formSession(c, kit, assets);
    if (r instanceof Response) return r;
    const { lang } = r;
    const m = PAGE_MESSAGES[lang];
    // Asked already: a second confirmation would record nothing new, so the person sees their request.
    if (await kit.erasure.pending(r.session.siteId, r.session.subjectId)) return c.redirect(done(lang), 303);
    const token = await kit.erasure.startConfirmation(r.session.siteId, r.session.subjectId);
    return sendMessagePage(c, assets, {
      lang,
      title: m.eraseConfirmTitle,
      text: m.eraseConfirmText,
      form: {
        action: '/p/erasure/confirm',
        fields: { csrf: r.session.csrf, confirm: token, lang },
        submit: m.eraseConfirm,
      },
      back: { href: `/p?lang=${lang}`, label: m.cancel },
    });
  });

  app.post('/p/erasure/confirm', async (c) => {
    const r = await formSession(c, kit, assets);
    if (r instanceof Response) return r;
    const { lang } = r;
    const m = PAGE_MESSAGES[lang];
    const token = typeof r.form.confirm === 'string' ? r.form.confirm : '';
    await kit.refreshKeys();
    try {
      await kit.erasure.confirm(token, { siteId: r.session.siteId, subjectId: r.session.subjectId });
      return c.redirect(done(lang), 303);
    } catch (err) {
      if (err instanceof LinkTokenError) return sendTokenErrorPage(c, assets, err, lang);
      if (err instanceof ConfirmationUsed)
        return sendMessagePage(
          c,
          assets,
          {
            lang,
            title: m.eraseConfirmTitle,
            text: m.confirmationUsed,
            alert: true,
            back: { href: `/p?lang=${lang}`, label: m.cancel },
          },
          409,
        );
      throw err;
    }
  });

  app.get('/p/erasure/done', async (c) => {
    const session = await pageSession(c, kit);
    const lang = requestLanguage(
      c,
      session?.language,
      session ? kit.site(session.siteId).emailLinks.language : 'en',
    );
    if (!session) return sessionEnded(c, lang, assets);
    const request = await kit.erasure.pending(session.siteId, session.subjectId);
    // Nothing pending (the address typed by hand): the preference page, where erasure is asked for.
    if (!request) return c.redirect(`/p?lang=${lang}`, 303);
    const m = PAGE_MESSAGES[lang];
    return sendMessagePage(c, assets, {
      lang,
      title: m.erasureRecordedTitle,
      text: m.erasureRecorded(formatDate(request.requestedAt, lang)),
    });
  });

  return app;
}

const RequestBody = v.strictObject({
  site: v.string(),
  userId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  subjectId: v.optional(v.pipe(v.string(), v.regex(/^s_[A-Za-z0-9_-]{43}$/))),
});
const RunBody = v.strictObject({ site: v.optional(v.string()) });

export function erasureAdminRoutes(deps: { kit: EmailKit; adminKeys: AdminKeys }): Hono<AdminEnv> {
  const { kit } = deps;
  const app = new Hono<AdminEnv>();

  app.post('/v1/admin/erasure', requireRole(deps, 'admin'), async (c) => {
    const body = await jsonBody(c, RequestBody);
    const siteId = assertSiteAccess(c.get('admin'), body.site);
    const request = await kit.erasure.request(siteId, subjectOf(kit, siteId, body));
    return c.json(request, 202);
  });

  app.get('/v1/admin/erasure', requireRole(deps, 'admin', 'operator', 'auditor'), async (c) => {
    const siteId = assertSiteAccess(c.get('admin'), c.req.query('site'));
    const status = c.req.query('status');
    return c.json({ siteId, requests: await kit.erasure.list(siteId, status ? { status } : {}) });
  });

  app.post('/v1/admin/erasure/run', requireRole(deps, 'admin'), async (c) => {
    // The body is optional: no body runs every site the key may act on.
    const body = (await c.req.text()).trim() ? await jsonBody(c, RunBody) : {};
    const admin = c.get('admin');
    const siteId = body.site ? assertSiteAccess(admin, body.site) : (admin.siteId ?? undefined);
    const result = await kit.erasure.run(siteId ? { siteId } : {});
    for (const r of result.requests)
      await kit.deps.protection?.accessLog.append({
        actor: adminActor(c),
        action: 'erasure.run',
        siteId: r.siteId,
        subjectId: r.subjectId,
        detail: r.result ?? {},
      });
    return c.json(result);
  });

  return app;
}
