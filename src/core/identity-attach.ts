/**
 * The identity part of `window.assenso` in the script-tag build: `identify(token)`, `forget()`, `identity()`
 * (the full API, for the preference center and the site's own pages), `data-identity` on the script tag, a
 * pairing link or an email link opened on this page (`#assenso-pair=CODE`, `?assenso=<token>`: each linked
 * only once the visitor confirms it in the preference center), and a sync on load for a browser linked before.
 * Tiny on purpose: the work is in identity.ts, fetched as a chunk only when one of these needs it.
 */
import { failed } from './events.ts';
import type { IdentityApi } from './identity.ts';
import type { ConsentController } from './types.ts';

type IdentityModule = typeof import('./identity-chunk.ts');

export interface IdentityWindowApi {
  /** Links this browser to the signed-in person (token from the site's backend, see docs/identity.md). */
  identify(token: string): Promise<unknown>;
  /** Unlinks this browser (logout, shared computer). */
  forget(): Promise<unknown>;
  /** The identity API (pairing codes, linked devices); loads its chunk. */
  identity(): Promise<IdentityApi>;
}

export function attachIdentity(
  controller: ConsentController,
  load: () => Promise<IdentityModule>,
  opts: { token?: string | null } = {},
): IdentityWindowApi {
  let mod: Promise<IdentityApi> | undefined;
  const identity = () => {
    mod ??= load().then((m) => m.createIdentity(controller));
    mod.catch(() => {
      mod = undefined; // a chunk that failed to load (offline) is tried again next time
    });
    return mod;
  };
  const safely =
    <A extends unknown[]>(what: string, fn: (i: IdentityApi, ...a: A) => Promise<unknown>) =>
    (...a: A): Promise<unknown> =>
      identity()
        .then((i) => fn(i, ...a))
        .catch((e) => {
          failed(what, e);
          return null;
        });
  const api: IdentityWindowApi = {
    identify: safely('identify()', (i, token: string) => i.identify(token)),
    forget: safely('forget()', (i) => i.forget()),
    identity,
  };
  // An email preference link (`?assenso=<token>`, email-link.ts): out of the URL and history at once.
  const url = new URL(location.href);
  const email = url.searchParams.get('assenso');
  if (email) {
    url.searchParams.delete('assenso');
    history.replaceState(history.state, '', url);
  }
  if (!controller.config.endpoint) return api;
  const hash = globalThis.location?.hash ?? '';
  const pair = /[#&]assenso-pair=([^&]+)/.exec(hash)?.[1];
  if (pair) {
    // Drop the code from the address bar (and from history) before anything else can read or share it. It is
    // claimed only if the visitor chooses Link when asked: anyone can send anyone a pairing link.
    history.replaceState(history.state, '', location.href.replace(/#.*$/, ''));
    void safely('pairing', (i) => i.askToClaim(decodeURIComponent(pair)))();
  } else if (email)
    void load().then(
      (m) => m.openEmailLink(controller, email),
      (e) => failed('email link', e),
    );
  else if (opts.token) void api.identify(opts.token);
  else
    setTimeout(() => {
      // In a task of its own: the first use of localStorage blocks the main thread for a moment.
      try {
        if (globalThis.localStorage?.getItem(`assenso:linked:${controller.config.siteId}`) === '1')
          void safely('sync', (i) => i.sync())();
      } catch {
        // Storage blocked: this browser syncs when the page calls identify().
      }
    });
  return api;
}
