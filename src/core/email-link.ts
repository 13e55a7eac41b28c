/**
 * A preference link from an email opened on the site itself (`https://shop.example/?assenso=<token>`,
 * docs/email.md): the person manages their consent in the widget instead of the hosted page.
 *
 * identity-attach.ts drops the token from the address bar and history at start-up (before analytics or a
 * Referer can carry it) and hands it here, in the identity chunk. This module opens the preference center,
 * whose "Your devices" section asks first whether to link this browser to the person the link was sent to:
 * whoever sends someone a link with their own token must not get that browser linked to them (its receipts
 * attached to their subject, their "accept all" applied on it) by a click on a link. Only when the visitor
 * chooses Link is the token exchanged for a link of this browser's device to the token's person
 * (`POST /v1/email-link/device`: only a preference token of this site links anything), and the person's
 * consent applied as identify() does; the open preference center then shows it. Until then, and after
 * Cancel, it shows this browser's own choices: the person's are not fetched, since a Save there would make
 * them this browser's.
 *
 * A refused or failed exchange (expired, altered or revoked token, server down) changes nothing: one console
 * warning, and the preference center says so first (notice `link-failed`) and goes on for this device alone.
 *
 * @example
 * // ES module build: the page passes the token itself (and removes it from its URL first); the preference
 * // center asks only where it has the identity API (attachUi's `identity`, docs/identity.md).
 * await openEmailLink(consent, token);
 */
import { askToLink, createIdentity, type IdentityApi, type IdentityDeps, linkedFlag } from './identity.ts';
import type { ConsentController } from './types.ts';

export interface EmailLinkDeps extends IdentityDeps {
  /** The identity API to sync with (default: a new one over the same controller). */
  identity?: IdentityApi;
}

/**
 * Opens the preference center, which asks whether to link this browser to the person of a preference-link
 * token; on Link, links it and applies their consent. Never rejects: resolves true when the device was linked,
 * false when the visitor cancelled (or closed the preference center), or (after one warning) when the token
 * was refused or the server could not be reached.
 */
export function openEmailLink(
  c: ConsentController,
  token: string,
  deps: EmailLinkDeps = {},
): Promise<boolean> {
  const cfg = c.config;
  // Nothing could link it (and the devices section, which asks, shows only with a receipt server).
  if (!cfg.endpoint) return failed(c, new Error('no endpoint'));
  const answered = askToLink(c, { kind: 'email' }, async () => {
    try {
      const res = await (deps.fetch ?? fetch)(`${cfg.endpoint!.replace(/\/$/, '')}/v1/email-link/device`, {
        method: 'POST',
        credentials: 'omit',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ site: cfg.siteId, deviceId: await c.deviceId(), token }),
      });
      // The warning shows the problem details (type, title: e.g. token-expired), else the status.
      if (!res.ok) throw await res.json().catch(() => res.status);
    } catch (e) {
      return failed(c, e);
    }
    try {
      (deps.flags ?? localStorage).setItem(linkedFlag(cfg.siteId), '1');
    } catch {
      // Storage blocked: this page still syncs below; the next load only when the page calls identify().
    }
    // Applied while the preference center is open: it follows (its switches show the person's choices).
    await (deps.identity ?? createIdentity(c, deps))
      .sync()
      .catch((e) => console.warn('[assenso] email link sync failed:', e));
    return true;
  });
  c.open('preferences');
  return answered;
}

/** One warning; the preference center says first that the link did not work, and serves this browser alone. */
async function failed(c: ConsentController, e: unknown): Promise<false> {
  console.warn('[assenso] email link failed:', e);
  c.open('preferences', 'link-failed');
  return false;
}
