/**
 * @module
 * Building and sending the hosted pages: the preference page's props from a person's state, message pages,
 * and the page for each link-token failure.
 */
import type { Context } from 'hono';
import { localize, type PageLanguage, purposeChannels } from '../email/config-schema.ts';
import type { EmailKit } from '../email/kit.ts';
import { tokenErrorStatus } from '../email/kit.ts';
import type { LinkTokenError } from '../email/tokens.ts';
import type { PageAssets } from './assets.ts';
import { renderDocument, setPageHeaders } from './document.tsx';
import { MessagePage, type MessagePageProps } from './MessagePage.tsx';
import { formatDate, PAGE_MESSAGES, pickLanguage } from './messages.ts';
import { PreferencesPage, type PreferencesPageProps } from './PreferencesPage.tsx';

/** The page language for a request: `?lang=`, else the link's, else Accept-Language, else the site's. */
export function requestLanguage(
  c: Context,
  linkLanguage: string | null | undefined,
  siteDefault: PageLanguage,
) {
  return pickLanguage(c.req.query('lang') ?? linkLanguage, c.req.header('accept-language'), siteDefault);
}

/** The preference page's props for a person. */
export async function preferencesProps(
  kit: EmailKit,
  input: {
    siteId: string;
    subjectId: string;
    csrf: string;
    lang: PageLanguage;
    notice: string | null;
    renew: boolean;
  },
): Promise<PreferencesPageProps> {
  const site = kit.site(input.siteId);
  const m = PAGE_MESSAGES[input.lang];
  const items = await kit.preferences.view(input.siteId, input.subjectId);
  return {
    lang: input.lang,
    siteName: site.name ?? site.id,
    csrf: input.csrf,
    notice: input.notice,
    renew: input.renew,
    purposes: site.purposes.map((p) => ({
      id: p.id,
      title: localize(p.title, input.lang),
      description: localize(p.description, input.lang),
      channels: purposeChannels(site, p).map((channel) => {
        const item = items.find((i) => i.purpose === p.id && i.channel === channel);
        const expiresAt = item?.expiresAt ?? null;
        const status =
          !item || item.decided === null || expiresAt === null
            ? m.notDecided
            : item.expired && item.decided
              ? m.expired(formatDate(expiresAt, input.lang))
              : item.decided
                ? m.expires(formatDate(expiresAt, input.lang))
                : m.off;
        return {
          channel,
          granted: item?.granted ?? false,
          status,
          expired: !!item?.expired && !!item.decided,
        };
      }),
    })),
  };
}

export function sendPreferencesPage(c: Context, assets: PageAssets, props: PreferencesPageProps): Response {
  setPageHeaders(c);
  const html = renderDocument({
    lang: props.lang,
    // After a form without JavaScript, the page that follows says what happened first in its title, which screen
    // readers read on load (its status region is not announced then: its text was there from the start).
    title: `${props.notice ? `${props.notice} – ` : ''}${PAGE_MESSAGES[props.lang].title(props.siteName)}`,
    body: <PreferencesPage {...props} />,
    props,
    ...(assets.scriptUrl ? { script: assets.scriptUrl } : {}),
    styles: assets.stylesUrl,
  });
  return c.html(html, 200);
}

export function sendMessagePage(
  c: Context,
  assets: PageAssets,
  props: MessagePageProps,
  status = 200,
): Response {
  setPageHeaders(c);
  const html = renderDocument({
    lang: props.lang,
    title: props.title,
    body: <MessagePage {...props} />,
    styles: assets.stylesUrl,
  });
  return c.html(html, status as 200);
}

/** A clear page for a link that cannot be used; changes nothing. */
export function sendTokenErrorPage(
  c: Context,
  assets: PageAssets,
  err: LinkTokenError,
  lang: PageLanguage,
): Response {
  const m = PAGE_MESSAGES[lang];
  return sendMessagePage(
    c,
    assets,
    { lang, title: m.errorTitle, text: m.tokenErrors[err.code], hint: m.askNewLink, alert: true },
    tokenErrorStatus(err),
  );
}

/** Whether the client asked for JSON (the hydrated page, API clients) rather than a page. */
export function wantsJson(c: Context): boolean {
  const accept = c.req.header('accept') ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** Whether the client is a browser asking for a page. */
export function wantsHtml(c: Context): boolean {
  return (c.req.header('accept') ?? '').includes('text/html');
}
