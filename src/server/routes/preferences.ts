/**
 * @module
 * The hosted preference page (`/p/…`) and the admin preferences API (`/v1/admin/preferences`).
 *
 * `GET /p/<token>` exchanges a preference link for a session cookie (HttpOnly, Secure, SameSite=Lax, Path=/p,
 * 30 minutes) and answers 303 to `/p`: the token leaves the address bar at once. The page's forms post to
 * `/p/save`, `/p/unsubscribe` and `/p/renew` with the session's CSRF token; without JavaScript they answer 303
 * back to `/p` with a notice, with `Accept: application/json` (the hydrated page) the page's new props.
 * Every form carries the language of the page it is on (`lang`): what is recorded, and the page after it, are in
 * the language the person read.
 */
import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import * as v from 'valibot';
import { ITEM_ID_PATTERN } from '../../protocol/ids.ts';
import { HttpProblem } from '../errors.ts';
import type { PageLanguage } from '../email/config-schema.ts';
import type { EmailKit } from '../email/kit.ts';
import type { PreferenceChoices } from '../email/preferences-service.ts';
import type { PageSession } from '../email/sessions.ts';
import { LinkTokenError } from '../email/tokens.ts';
import type { PageAssets } from '../pages/assets.ts';
import { setPageHeaders } from '../pages/document.tsx';
import { PAGE_MESSAGES, pickLanguage } from '../pages/messages.ts';
import {
  preferencesProps,
  requestLanguage,
  sendMessagePage,
  sendPreferencesPage,
  sendTokenErrorPage,
  wantsHtml,
  wantsJson,
} from '../pages/respond.tsx';
import { adminActor, assertSiteAccess, requireRole } from '../protection/admin-auth.ts';
import type { AdminEnv } from '../protection/admin-auth.ts';
import type { AdminKeys } from '../protection/admin-keys.ts';

export const SESSION_COOKIE = 'assenso_pref';
const NOTICES = ['saved', 'unsubscribed', 'renewed', 'nothing-to-renew'] as const;
type Notice = (typeof NOTICES)[number];

export interface PageRouteDeps {
  kit: EmailKit;
  assets: PageAssets;
}

/** Reads the session of the request, or null. */
export async function pageSession(c: Context, kit: EmailKit): Promise<PageSession | null> {
  return kit.sessions.get(getCookie(c, SESSION_COOKIE));
}

/** A form POST's session and fields, after checking its CSRF token, and the language of the page it came from. */
export interface FormPost {
  session: PageSession;
  form: Record<string, string | string[]>;
  lang: PageLanguage;
}

/**
 * The session of a form POST, after checking its CSRF token (and, when the browser sends it, the Origin).
 * A browser posting without JavaScript gets a page when the session has ended or the form is stale; the
 * hydrated page and API clients get problem details.
 */
export async function formSession(
  c: Context,
  kit: EmailKit,
  assets: PageAssets,
): Promise<FormPost | Response> {
  const form = (await c.req.parseBody({ all: true }).catch(() => ({}))) as Record<string, string | string[]>;
  const session = await pageSession(c, kit);
  const lang = pickLanguage(
    (typeof form.lang === 'string' ? form.lang : undefined) ?? c.req.query('lang') ?? session?.language,
    c.req.header('accept-language'),
    session ? kit.site(session.siteId).emailLinks.language : 'en',
  );
  if (!session) return sessionEnded(c, lang, assets);
  // Under `Referrer-Policy: no-referrer` Chromium sends `Origin: null` with form posts: only a real origin
  // is compared (the CSRF token is the check that counts).
  const sent = c.req.header('origin');
  const origin = sent === 'null' ? undefined : sent;
  const csrf = typeof form.csrf === 'string' ? form.csrf : c.req.header('x-csrf-token');
  if (
    csrf !== session.csrf ||
    (origin && origin !== new URL(c.req.url).origin && origin !== kit.baseUrl(c))
  ) {
    if (wantsHtml(c)) {
      const m = PAGE_MESSAGES[lang];
      return sendMessagePage(
        c,
        assets,
        {
          lang,
          title: m.formStaleTitle,
          text: m.formStale,
          alert: true,
          back: { href: `/p?lang=${lang}`, label: m.backToPreferences },
        },
        403,
      );
    }
    throw new HttpProblem(403, 'forbidden', 'The form is stale or comes from another site: reload the page');
  }
  return { session, form, lang };
}

/** The answer to a request whose page session has ended (or never was): a page, or problem details. */
export function sessionEnded(c: Context, lang: PageLanguage, assets: PageAssets): Response {
  if (wantsJson(c)) {
    setPageHeaders(c);
    return c.json(
      { type: 'https://assenso.dev/problems/unauthorized', title: 'Session ended', status: 401 },
      401,
    );
  }
  const m = PAGE_MESSAGES[lang];
  return sendMessagePage(c, assets, { lang, title: m.errorTitle, text: m.sessionEnded, alert: true }, 401);
}

function noticeText(lang: PageLanguage, notice: Notice | null): string | null {
  const m = PAGE_MESSAGES[lang];
  if (notice === 'saved') return m.saved;
  if (notice === 'unsubscribed') return m.unsubscribedAll;
  if (notice === 'renewed') return m.renewed;
  if (notice === 'nothing-to-renew') return m.nothingToRenew;
  return null;
}

/** Reads the checkbox form: `shown` lists every purpose.channel on the page, `granted` the checked ones. */
export function choicesFromForm(form: Record<string, string | string[]>): PreferenceChoices {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const granted = new Set(list(form.granted));
  const choices: PreferenceChoices = {};
  for (const item of list(form.shown)) {
    const [purpose = '', channel = '', ...rest] = item.split('.');
    // Ids only, and own properties only: `shown=__proto__.x` set `x` on every object of the server (every
    // strict schema then refused every request), `constructor.x` a property of `Object`.
    if (!ITEM_ID_PATTERN.test(purpose) || !ITEM_ID_PATTERN.test(channel) || rest.length)
      throw new HttpProblem(422, 'invalid-request', `Bad field ${item}`);
    if (!Object.hasOwn(choices, purpose)) choices[purpose] = {};
    choices[purpose]![channel] = granted.has(item);
  }
  return choices;
}

export function preferencesPageRoutes(deps: PageRouteDeps): Hono {
  const { kit, assets } = deps;
  const app = new Hono();

  app.get('/p/assets/:name', (c) => {
    const file = assets.get(c.req.param('name'));
    if (!file) throw new HttpProblem(404, 'not-found');
    c.header('Content-Type', file.type);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(file.body);
  });

  /** Answers an action: the new props as JSON (hydrated page), else 303 back to the page with a notice. */
  async function after(c: Context, { session, lang }: FormPost, notice: Notice) {
    if (!wantsJson(c)) return c.redirect(`/p?done=${notice}&lang=${lang}`, 303);
    setPageHeaders(c);
    return c.json(
      await preferencesProps(kit, { ...session, lang, notice: noticeText(lang, notice), renew: false }),
    );
  }

  app.get('/p', async (c) => {
    const session = await pageSession(c, kit);
    if (!session) return sessionEnded(c, requestLanguage(c, null, 'en'), assets);
    const lang = requestLanguage(c, session.language, kit.site(session.siteId).emailLinks.language);
    const done = c.req.query('done');
    const notice = NOTICES.includes(done as Notice) ? (done as Notice) : null;
    return sendPreferencesPage(
      c,
      assets,
      await preferencesProps(kit, {
        ...session,
        lang,
        notice: noticeText(lang, notice),
        renew: c.req.query('renew') === '1' && notice === null,
      }),
    );
  });

  app.post('/p/save', async (c) => {
    const r = await formSession(c, kit, assets);
    if (r instanceof Response) return r;
    const { lang } = r;
    await kit.preferences.decide({
      siteId: r.session.siteId,
      subjectId: r.session.subjectId,
      method: 'email-link',
      language: lang,
      choices: choicesFromForm(r.form),
      texts: {
        title: PAGE_MESSAGES[lang].title(kit.site(r.session.siteId).name ?? r.session.siteId),
        intro: PAGE_MESSAGES[lang].intro,
      },
    });
    return after(c, r, 'saved');
  });

  app.post('/p/unsubscribe', async (c) => {
    const r = await formSession(c, kit, assets);
    if (r instanceof Response) return r;
    const { lang } = r;
    await kit.preferences.unsubscribe({
      siteId: r.session.siteId,
      subjectId: r.session.subjectId,
      method: 'email-link',
      language: lang,
      texts: { action: PAGE_MESSAGES[lang].unsubscribeAll, hint: PAGE_MESSAGES[lang].unsubscribeAllHint },
    });
    return after(c, r, 'unsubscribed');
  });

  app.post('/p/renew', async (c) => {
    const r = await formSession(c, kit, assets);
    if (r instanceof Response) return r;
    const { lang } = r;
    const renewed = await kit.preferences.renew({
      siteId: r.session.siteId,
      subjectId: r.session.subjectId,
      language: lang,
      texts: { title: PAGE_MESSAGES[lang].renewTitle, text: PAGE_MESSAGES[lang].renewText },
    });
    return after(c, r, renewed ? 'renewed' : 'nothing-to-renew');
  });

  app.get('/p/history.json', async (c) => {
    const session = await pageSession(c, kit);
    if (!session) return sessionEnded(c, requestLanguage(c, null, 'en'), assets);
    const receipts = await kit.preferences.history(session.siteId, session.subjectId);
    // "Everything you hold about me" (issue 6): the person's own contact data in clear, linked devices and
    // every other row about them, next to the signed receipts.
    const held = await kit.deps.protection?.exportForPerson(session.siteId, session.subjectId);
    setPageHeaders(c);
    c.header('Content-Disposition', 'attachment; filename="consent-history.json"');
    return c.json({
      siteId: session.siteId,
      subjectId: session.subjectId,
      receipts,
      ...(held ? { held } : {}),
    });
  });

  app.get('/p/:token', async (c) => {
    const site0 = kit.sites()[0];
    await kit.refreshKeys();
    let claims: ReturnType<EmailKit['tokens']['verify']>;
    try {
      claims = kit.tokens.verify(c.req.param('token'), { action: 'preferences' });
    } catch (err) {
      if (!(err instanceof LinkTokenError)) throw err;
      return sendTokenErrorPage(c, assets, err, requestLanguage(c, null, site0?.emailLinks.language ?? 'en'));
    }
    const site = kit.site(claims.siteId);
    const { id } = await kit.sessions.open({
      siteId: site.id,
      subjectId: claims.subjectId,
      // None in the link: the browser's language, then the site's, when the page is shown (requestLanguage).
      ...(claims.language ? { language: claims.language } : {}),
    });
    setCookie(c, SESSION_COOKIE, id, {
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/p',
      maxAge: 30 * 60,
    });
    setPageHeaders(c);
    return c.redirect(c.req.query('renew') === '1' ? '/p?renew=1' : '/p', 303);
  });

  return app;
}

const PreferencesBody = v.strictObject({
  site: v.string(),
  userId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  subjectId: v.optional(v.pipe(v.string(), v.regex(/^s_[A-Za-z0-9_-]{43}$/))),
  preferences: v.record(v.string(), v.record(v.string(), v.boolean())),
  language: v.optional(v.picklist(['it', 'en'])),
});

/** Parses a JSON body against a schema; 400 for malformed JSON, 422 naming each bad field. */
export async function jsonBody<T extends v.GenericSchema>(c: Context, schema: T): Promise<v.InferOutput<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new HttpProblem(400, 'malformed-json', 'The body is not JSON');
  }
  const res = v.safeParse(schema, raw);
  if (!res.success)
    throw new HttpProblem(422, 'invalid-request', 'The body does not match the schema', {
      errors: res.issues.map((i) => `${v.getDotPath(i) ?? '(body)'}: ${i.message}`),
    });
  return res.output;
}

/** The subject an admin call is about: `subjectId`, or the pseudonym of `userId`. */
export function subjectOf(
  kit: EmailKit,
  siteId: string,
  q: { userId?: string | undefined; subjectId?: string | undefined },
) {
  if (!q.userId === !q.subjectId)
    throw new HttpProblem(422, 'invalid-request', 'Give exactly one of userId and subjectId');
  return q.subjectId ?? kit.deps.pseudonymizer.subjectId(siteId, q.userId!);
}

/** `GET/PUT /v1/admin/preferences`: read (admin, operator) or record (admin, method `api`) a person's preferences. */
export function preferencesAdminRoutes(deps: { kit: EmailKit; adminKeys: AdminKeys }): Hono<AdminEnv> {
  const { kit } = deps;
  const app = new Hono<AdminEnv>();
  app.get('/v1/admin/preferences', requireRole(deps, 'admin', 'operator'), async (c) => {
    const siteId = assertSiteAccess(c.get('admin'), c.req.query('site'));
    kit.site(siteId);
    const subjectId = subjectOf(kit, siteId, {
      userId: c.req.query('userId'),
      subjectId: c.req.query('subjectId'),
    });
    await kit.deps.protection?.accessLog.append({
      actor: adminActor(c),
      action: 'preferences.read',
      siteId,
      subjectId,
    });
    c.header('Cache-Control', 'no-store');
    return c.json({ siteId, subjectId, preferences: await kit.preferences.view(siteId, subjectId) });
  });
  app.put('/v1/admin/preferences', requireRole(deps, 'admin'), async (c) => {
    const body = await jsonBody(c, PreferencesBody);
    const siteId = assertSiteAccess(c.get('admin'), body.site);
    const site = kit.site(siteId);
    const subjectId = subjectOf(kit, siteId, body);
    const receipt = await kit.preferences.decide({
      siteId,
      subjectId,
      method: 'api',
      language: body.language ?? site.emailLinks.language,
      choices: body.preferences,
    });
    return c.json(
      { siteId, subjectId, receipt, preferences: await kit.preferences.view(siteId, subjectId) },
      201,
    );
  });
  return app;
}
