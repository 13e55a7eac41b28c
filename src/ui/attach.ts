import { soon } from '../core/clock.ts';
import type { ConsentController, ConsentDeps, ConsentState } from '../core/types.ts';
import { BUILT_IN } from './i18n/catalog.ts';
import { languageCandidates, pickLanguage } from './i18n/language.ts';
import type { IdentityLoader } from './devices-element.ts';
import type { Loaders } from './lazy.ts';
import { type MountedUi, mountUi } from './mount.tsx';
import { siteTexts } from './notice.ts';

export interface AttachOptions {
  loaders: Loaders;
  /** Forced language (otherwise config, `<html lang>`, browser). */
  language?: string;
  nonce?: string;
  /** The identity API for "Your devices" (ES module: `() => Promise.resolve(createIdentity(consent))`). */
  identity?: IdentityLoader;
  /** The deps given to createConsent: the UI sets `getNotice` there once it shows texts. */
  deps?: ConsentDeps;
}

/** The language the widget speaks on this page. */
export function widgetLanguage(controller: ConsentController, forced?: string): string {
  const { language, languages } = controller.config;
  const supported = languages.length ? languages : ['en'];
  return pickLanguage(
    supported,
    languageCandidates(forced ?? language ?? undefined, document, navigator),
    supported[0]!,
  );
}

/**
 * Mounts the UI the first time the controller wants something shown (a banner on a first visit, the
 * preference center on open()), and never before: a returning visitor runs no UI code at all.
 */
export function attachUi(controller: ConsentController, options: AttachOptions): () => void {
  let mounted: Promise<MountedUi | undefined> | undefined;
  const lang = widgetLanguage(controller, options.language);
  // The iframe placeholders speak it too (they are filled once the delivery chunk is here, after this).
  if (options.deps) options.deps.language = lang;

  // Catalogs are by primary language: `it-CH` speaks the Italian one.
  const base = lang.split('-')[0]!.toLowerCase();
  const mount = () =>
    options.loaders
      .catalog(base)
      .catch(() => undefined)
      .then(async (messages) => {
        // In a task of its own, never in the one that started the core: no long task on a slow phone, and a
        // returning visitor's scripts are already running. A user-blocking one, not a timer: a rendering
        // opportunity between start-up and this task put the banner a frame later (at 4x CPU, 24 first visits
        // each, interleaved: median 319 vs 420 ms, mean 339 vs 408). Not after the parser: a banner mounted while
        // the page is still parsing shows with its first paint. A page without a <body> yet (a blocking script
        // in <head>) gets it as soon as the parser has made one, not at DOMContentLoaded.
        await new Promise<void>((r) => {
          const go = () => {
            seen.disconnect();
            soon(r);
          };
          const seen = new MutationObserver(() => document.body && go());
          if (document.body) go();
          else seen.observe(document.documentElement, { childList: true });
        });
        return mountUi(controller, {
          // A language with no catalog of ours and no texts of the site's is spoken in English, and marked so
          // (the host's lang, the receipt's notice), not as the language it is not.
          language: messages || siteTexts(controller.config, lang) ? lang : 'en',
          messages: messages ?? BUILT_IN.en!,
          prefsTexts: () => options.loaders.prefsTexts(messages ? base : 'en'),
          preferences: options.loaders.preferences,
          nonce: options.nonce,
          identity: options.identity,
          onNotice: (notice) => {
            if (options.deps) options.deps.getNotice = notice;
          },
        });
      })
      .catch((error) => {
        console.warn('[assenso] the consent UI could not be shown:', error);
        mounted = undefined;
        return undefined;
      });

  const check = (state: ConsentState) => {
    if (state.view !== 'none' && !mounted) mounted = mount();
  };
  const unsubscribe = controller.subscribe(check);
  check(controller.getState());
  // "Cookie settings" links anywhere in the page, now or later (the script tag and ES module builds alike),
  // also inside the page's own open shadow roots (a footer web component): the event's path, since its target
  // is the shadow host by the time it reaches the document.
  const click = (event: Event) => {
    const path = event.composedPath();
    if (path.some((n) => (n as Element).matches?.('[data-assenso-open]'))) {
      event.preventDefault();
      // A link in the page's own modal dialog (a menu drawer) included: the preference center opens above it.
      controller.open();
    }
  };
  document.addEventListener('click', click);
  return () => {
    document.removeEventListener('click', click);
    unsubscribe();
    void mounted?.then((ui) => ui?.unmount());
  };
}
