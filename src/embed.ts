/**
 * The script-tag entry (`dist/assenso.js`, an IIFE):
 *
 *   <script src="https://cdn.example/assenso/0.1.0/assenso.js" integrity="sha384-…" crossorigin="anonymous"
 *           data-site="shop" data-config="/consent.json" async></script>
 *
 * It reads its configuration once (inline `<script type="application/json" data-assenso-config>`, else the
 * `data-config` URL; then the `data-*` attributes of its own tag on top), starts the core synchronously when
 * the configuration is inline (a returning visitor's decision is applied and gated scripts run at once, with
 * no UI code executed), mounts the UI only when something must be shown, and exposes `window.assenso`.
 * Everything is wrapped: nothing thrown here reaches the host page, one console warning says what failed.
 */
import { soon } from './core/clock.ts';
import { createConsentWith } from './core/consent.ts';
import { attachIdentity } from './core/identity-attach.ts';
import type { ConsentDeps } from './core/types.ts';
import { attachUi } from './ui/attach.ts';
import { BUILT_IN } from './ui/i18n/catalog.ts';
import { LANGUAGES } from './ui/i18n/messages.ts';
import type { Loaders } from './ui/lazy.ts';
import { createWindowApi, runQueued } from './ui/window-api.ts';

type Json = Record<string, unknown>;
const warn = (what: string, e?: unknown) => console.warn(`[assenso] ${what}`, e ?? '');

/** Keys the script tag's data attributes override (`data-site` for siteId, `data-<key>` for the others). */
const ATTRIBUTES = ['siteId', 'endpoint', 'revision', 'language', 'layout', 'theme'];

/** The inline configuration as parsed; undefined when there is none, null when it is no JSON (said here). */
function readInline(): unknown {
  const el = document.querySelector('script[type="application/json"][data-assenso-config]');
  if (!el) return undefined;
  try {
    return JSON.parse(el.textContent ?? '');
  } catch (e) {
    warn('the inline <script data-assenso-config> is not valid JSON; fix its syntax.', e);
    return null;
  }
}

function withAttributes(config: unknown = {}, script: HTMLScriptElement | null): Json {
  // Anything but an object (`[]`, `null`, a file or JSON that did not load) stays no object, so that the
  // configuration check names it as such rather than blaming `siteId` and `categories`, which the author may
  // well have written: the attributes come on an array, whose keys it reads all the same.
  const out = (config && typeof config === 'object' && !Array.isArray(config) ? { ...config } : []) as Json;
  for (const key of ATTRIBUTES) {
    const v = script?.getAttribute(`data-${key === 'siteId' ? 'site' : key}`);
    if (v) out[key] = v;
  }
  return out;
}

function main(script: HTMLScriptElement | null): void {
  const base = script?.src ? new URL('.', script.src).href : document.baseURI;
  // A parser-blocking tag (no async, no defer) while the page loads: the parser waits for this script anyway.
  const blocking = !!script && !script.async && !script.defer && document.readyState === 'loading';
  const nonce = script?.nonce || undefined;
  // Chunks sit next to this file: `chunks/prefs.js`, `i18n/<lang>.js`. import() from a nonced script is
  // allowed by 'strict-dynamic'; only known names are ever requested.
  const load = (path: string) => import(/* @vite-ignore */ new URL(path, base).href);
  const loaders: Loaders = {
    catalog: (lang) =>
      BUILT_IN[lang]
        ? Promise.resolve(BUILT_IN[lang])
        : (LANGUAGES as readonly string[]).includes(lang)
          ? load(`i18n/${lang}.js`).then((x) => x[lang])
          : Promise.resolve(undefined),
    prefsTexts: (lang) =>
      BUILT_IN[lang] ? load(`i18n/${lang}-prefs.js`).then((x) => x.prefs) : Promise.resolve(undefined),
    preferences: () => load('chunks/prefs.js'),
  };
  const run = (config: Json) => {
    // Read now, not when this script started: with a `data-config` URL the page's own scripts may have
    // created the queue while the configuration was on its way.
    const queued = (window as { assenso?: unknown }).assenso;
    const deps: ConsentDeps = { nonce };
    // Receipts, outbox, transport and iframe placeholders come from chunks/delivery.js, off the path to the
    // banner (attachUi sets the language of the placeholders' texts before the chunk can arrive).
    const controller = createConsentWith(() => load('chunks/delivery.js'), config, deps);
    // Consent Mode's `default` at once, before any tag can read it.
    controller.boot();
    // Start-up proper (the cookie mirror's first read is slow: an IPC to the browser, ~5 ms at 1×, and
    // config checks plus the cookie in one task made a long task on a slow phone) runs in the next task, or
    // at once when the page asks for the state before then.
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      try {
        // Queued listeners first, so that they hear start-up itself (`ready`, a returning visitor's `change`);
        // the other calls after it, so that they see the stored decision.
        const calls = Array.isArray(queued) ? (queued as unknown[]) : [];
        const listen = (call: unknown) => Array.isArray(call) && call[0] === 'on';
        for (const call of calls) if (listen(call)) runQueued(api, call);
        controller.start();
        attachUi(controller, { loaders, nonce, deps });
        for (const call of calls) if (!listen(call)) runQueued(api, call);
      } catch (e) {
        warn('failed to start.', e);
      }
    };
    // identify()/forget()/identity(): the identity chunk loads only when used (docs/identity.md).
    const api = createWindowApi(controller, start);
    // Before start() (which the page can force by reading the state as soon as window.assenso is there): gated
    // inline scripts it runs must never see an email link's `?assenso=` token.
    Object.assign(
      api,
      attachIdentity(controller, () => load('chunks/identity.js'), {
        token: script?.getAttribute('data-identity'),
      }),
    );
    (window as { assenso?: unknown }).assenso = api;
    // Before the page's other tasks where the browser lets us choose (a returning visitor's gated scripts wait
    // for it): Chromium and Firefox run a user-blocking task ahead of parsing and timers. Under a blocking tag
    // at once, before the parser moves on: Chromium went on parsing the body before that task ran, and a gated
    // script it met was run only afterwards.
    if (blocking) start();
    else soon(start);
  };

  const inline = readInline();
  const url = script?.getAttribute('data-config');
  if (inline || !url) run(withAttributes(inline, script));
  // In the chain, a URL that cannot be made (`http://[shop/…`) or a `fetch` that throws at once (a page's broken
  // wrapper) falls back as a 404 does, rather than stopping the widget (and the page's queued calls).
  else
    Promise.resolve()
      .then(() => fetch(new URL(url, document.baseURI), { credentials: 'same-origin' }))
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
      .then(
        (config: unknown) => run(withAttributes(config, script)),
        (e) => {
          warn(`could not load data-config="${url}"; check the URL and that it serves JSON.`, e);
          run(withAttributes(null, script));
        },
      )
      .catch((e) => warn('failed to start.', e));
}

try {
  // A `type="module"` tag has no currentScript: found by its file name (a query string after it, as WordPress's
  // `?ver=` adds, included), so that its folder (where the chunks are) and its data attributes are still ours.
  const script =
    (document.currentScript as HTMLScriptElement | null) ??
    document.querySelector<HTMLScriptElement>('script[src$="assenso.js"],script[src*="assenso.js?"]');
  // One widget per page: a second copy of the tag (hard-coded and again from a tag manager, say) would show a
  // second banner, send Consent Mode's default again and make two receipts of every decision. The mark is set
  // before the configuration is read, so a copy that runs while the first one's `data-config` is on its way is
  // ignored too.
  const seen = window as unknown as Record<symbol, unknown>;
  const mark = Symbol.for('assenso');
  if (seen[mark]) warn('a second assenso.js on this page is ignored; keep one tag.', script?.src);
  else {
    seen[mark] = 1;
    main(script);
  }
} catch (e) {
  warn('failed to start.', e);
}
