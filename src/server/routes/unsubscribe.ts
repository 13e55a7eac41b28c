/**
 * @module
 * One-click unsubscribe (RFC 8058) at the `unsubscribeUrl` of a person's links (`/u/<token>`).
 *
 * `POST` with the body `List-Unsubscribe=One-Click` (urlencoded or multipart, as mailbox providers send it)
 * unsubscribes at once: no cookie, no script, no confirmation page. It records a receipt with method
 * `unsubscribe` denying every purpose (or the link's purposes) on every channel; repeating it records nothing
 * more. `GET` only shows a confirmation page whose button makes the same POST: link scanners and
 * prefetchers, which GET every link in a message, must not unsubscribe anyone. A browser's POST (it asks for
 * HTML) answers 303 to `GET /u/<token>?done=1`, which says it is done once it is (Post/Redirect/Get: a
 * reload reads that page again, without the browser asking to send the form again).
 */
import { type Context, Hono } from 'hono';
import { localize } from '../email/config-schema.ts';
import type { EmailKit } from '../email/kit.ts';
import { tokenProblem } from '../email/kit.ts';
import { type LinkClaims, LinkTokenError } from '../email/tokens.ts';
import { HttpProblem } from '../errors.ts';
import type { PageAssets } from '../pages/assets.ts';
import { PAGE_MESSAGES } from '../pages/messages.ts';
import { requestLanguage, sendMessagePage, sendTokenErrorPage, wantsHtml } from '../pages/respond.tsx';

export function unsubscribeRoutes(deps: { kit: EmailKit; assets: PageAssets }): Hono {
  const { kit, assets } = deps;
  const app = new Hono();
  const defaultLang = () => kit.sites()[0]?.emailLinks.language ?? 'en';

  async function verify(c: Context): Promise<LinkClaims | LinkTokenError> {
    await kit.refreshKeys();
    try {
      return kit.tokens.verify(c.req.param('token') ?? '', { action: 'unsubscribe' });
    } catch (err) {
      if (err instanceof LinkTokenError) return err;
      throw err;
    }
  }

  /** What the link unsubscribes from, as the person's preferences stand. */
  async function targets(claims: LinkClaims) {
    const current = await kit.preferences.view(claims.siteId, claims.subjectId);
    return current.filter((i) => !claims.purposes || claims.purposes.includes(i.purpose));
  }

  app.get('/u/:token', async (c) => {
    const claims = await verify(c);
    if (claims instanceof LinkTokenError)
      return sendTokenErrorPage(c, assets, claims, requestLanguage(c, null, defaultLang()));
    const site = kit.site(claims.siteId);
    const lang = requestLanguage(c, claims.language, site.emailLinks.language);
    const m = PAGE_MESSAGES[lang];
    // After the POST: "done" only when it is (the address alone proves nothing), else the question again.
    if (c.req.query('done') === '1' && (await targets(claims)).every((i) => i.decided === false))
      return sendMessagePage(c, assets, {
        lang,
        title: m.unsubscribeDoneTitle(site.name ?? site.id),
        text: m.unsubscribeDone,
      });
    const scoped = claims.purposes
      ? site.purposes.filter((p) => claims.purposes!.includes(p.id)).map((p) => localize(p.title, lang))
      : null;
    return sendMessagePage(c, assets, {
      lang,
      title: m.unsubscribeTitle(site.name ?? site.id),
      text: scoped ? m.unsubscribeScoped(scoped.join(', ')) : m.unsubscribeText,
      form: {
        // The page's language goes with the POST, and on to the page after it.
        action: `${new URL(c.req.url).pathname}?lang=${lang}`,
        fields: { 'List-Unsubscribe': 'One-Click' },
        submit: m.unsubscribeConfirm,
      },
    });
  });

  app.post('/u/:token', async (c) => {
    const html = wantsHtml(c);
    const claims = await verify(c);
    if (claims instanceof LinkTokenError) {
      if (html) return sendTokenErrorPage(c, assets, claims, requestLanguage(c, null, defaultLang()));
      throw tokenProblem(claims);
    }
    const body = (await c.req.parseBody().catch(() => ({}))) as Record<string, unknown>;
    if (body['List-Unsubscribe'] !== 'One-Click')
      throw new HttpProblem(400, 'invalid-request', 'The body must be List-Unsubscribe=One-Click (RFC 8058)');
    const site = kit.site(claims.siteId);
    const lang = requestLanguage(c, claims.language, site.emailLinks.language);
    // Mailbox providers may repeat the POST: once everything is denied, there is nothing more to record.
    const already = (await targets(claims)).every((i) => i.decided === false);
    const receipt = already
      ? null
      : await kit.preferences.unsubscribe({
          siteId: site.id,
          subjectId: claims.subjectId,
          method: 'unsubscribe',
          language: lang,
          ...(claims.purposes ? { purposes: claims.purposes } : {}),
        });
    c.header('Cache-Control', 'no-store');
    c.header('Referrer-Policy', 'no-referrer');
    if (html) return c.redirect(`${new URL(c.req.url).pathname}?done=1&lang=${lang}`, 303);
    return c.json({ unsubscribed: true, receiptId: receipt?.receipt.receiptId ?? null });
  });

  return app;
}
