/**
 * @module
 * Mounts every email-link route on the app (one line in app.ts). Pages and one-click unsubscribe need the
 * link keys and the pseudonymizer; the admin API also needs the protection services (admin keys).
 */
import { Hono } from 'hono';
import { MAX_BODY_BYTES } from '../../protocol/api.ts';
import type { AppDeps } from '../deps.ts';
import { limitBody } from '../http/json-body.ts';
import { loadPageAssets } from '../pages/assets.ts';
import { erasureAdminRoutes, erasurePageRoutes } from '../routes/erasure.ts';
import { deviceLinkRoutes, linksRoutes } from '../routes/links.ts';
import { preferencesAdminRoutes, preferencesPageRoutes } from '../routes/preferences.ts';
import { renewalsRoutes } from '../routes/renewals.ts';
import { unsubscribeRoutes } from '../routes/unsubscribe.ts';
import { webhooksRoutes } from '../routes/webhooks.ts';
import { createEmailKit, type EmailKit } from './kit.ts';

/** The email kit of an app's dependencies, or null when link keys or the pseudonymizer are missing. */
export function emailKitOf(deps: AppDeps): EmailKit | null {
  if (!deps.linkKeys || !deps.pseudonymizer) return null;
  return createEmailKit({
    db: deps.db,
    config: deps.config,
    keyring: deps.keyring,
    now: deps.now,
    pseudonymizer: deps.pseudonymizer,
    linkKeys: deps.linkKeys,
    ...(deps.protection ? { protection: deps.protection } : {}),
  });
}

export function emailRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  const kit = emailKitOf(deps);
  if (!kit) return app;
  const assets = loadPageAssets(deps.widgetDir);
  // These routes read their bodies through Hono, which has no limit of its own: without this, one request
  // could make the server hold hundreds of megabytes (a form post needs no session to be read).
  const limit = limitBody(MAX_BODY_BYTES);
  for (const path of ['/p/*', '/u/*', '/v1/email-link/*', '/v1/admin/*']) app.use(path, limit);
  // Erasure pages before the preference pages: `/p/:token` would otherwise take `/p/erasure`.
  app.route('/', erasurePageRoutes({ kit, assets }));
  app.route('/', preferencesPageRoutes({ kit, assets }));
  app.route('/', unsubscribeRoutes({ kit, assets }));
  app.route('/', deviceLinkRoutes({ kit }));
  const adminKeys = deps.protection?.adminKeys;
  if (adminKeys) {
    for (const routes of [
      linksRoutes,
      preferencesAdminRoutes,
      renewalsRoutes,
      erasureAdminRoutes,
      webhooksRoutes,
    ])
      app.route('/', routes({ kit, adminKeys }) as unknown as Hono);
  }
  return app;
}
