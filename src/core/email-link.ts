/**
 * A preference link from an email opened on the site itself (`https://shop.example/?assenso=<token>`,
 * docs/email.md): the person manages their consent in the widget instead of the hosted page.
 *
 * identity-attach.ts drops the token from the address bar and history at start-up (before analytics or a
 * Referer can carry it) and hands it here, in the identity chunk. This module exchanges it for a link of this
 * browser's device to the token's person (`POST /v1/email-link/device`: only a preference token of this
 * site links anything), applies the person's consent as identify() does, and opens the preference center.
 *
 * A refused or failed exchange (expired, altered or revoked token, server down) changes nothing: one console
 * warning, and the preference center opens for this device alone, saying so first (notice `link-failed`).
 *
 * @example
 * // ES module build: the page passes the token itself (and removes it from its URL first).
 * await openEmailLink(consent, token);
 */
import { createIdentity, type IdentityApi, type IdentityDeps, linkedFlag } from './identity.ts';
import type { ConsentController } from './types.ts';

export interface EmailLinkDeps extends IdentityDeps {
  /** The identity API to sync with (default: a new one over the same controller). */
  identity?: IdentityApi;
}

/**
 * Links this browser to the person of a preference-link token, applies their consent and opens the
 * preference center. Never rejects: resolves true when the device was linked, false (after one warning)
 * when the token was refused or the server could not be reached.
 */
export async function openEmailLink(
  c: ConsentController,
  token: string,
  deps: EmailLinkDeps = {},
): Promise<boolean> {
  const cfg = c.config;
  let ok = false;
  try {
    // Without an endpoint (`null`) this throws, and the link is reported as failed like any other failure.
    const res = await (deps.fetch ?? fetch)(`${cfg.endpoint!.replace(/\/$/, '')}/v1/email-link/device`, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ site: cfg.siteId, deviceId: await c.deviceId(), token }),
    });
    // The warning shows the problem details (type, title: e.g. token-expired), else the status.
    if (!res.ok) throw await res.json().catch(() => res.status);
    ok = true;
    try {
      (deps.flags ?? localStorage).setItem(linkedFlag(cfg.siteId), '1');
    } catch {
      // Storage blocked: this page still syncs below; the next load only when the page calls identify().
    }
    await (deps.identity ?? createIdentity(c, deps)).sync();
  } catch (e) {
    console.warn('[assenso] email link failed:', e);
  }
  c.open('preferences', ok ? undefined : 'link-failed');
  return ok;
}
