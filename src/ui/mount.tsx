import type { ComponentChildren } from 'preact';
import { localize, type ShownNotice } from '../core/notice.ts';
import type { ConsentController, ConsentState, View } from '../core/types.ts';
import { Banner } from './Banner.tsx';
import { idle } from '../core/clock.ts';
import { render } from './dom/render.ts';
import { createFocusTrap } from './focus.ts';
import type { Catalog } from './i18n/catalog.ts';
import type { Messages, PrefsMessages } from './i18n/messages.ts';
import { textLang, withSiteTexts } from './notice.ts';
import type { IdentityLoader } from './devices-element.ts';
import type { Loaders, PreferencesModule } from './lazy.ts';
import { addStyles, adoptStyles } from './styles.ts';

export interface MountOptions {
  /** The language to speak (the embed picks it: config, `<html lang>`, browser). */
  language: string;
  /** Its catalog: the banner's part for it/en (built in), complete for the others (a lazy chunk). */
  messages: Catalog;
  /** The preference center texts that `messages` lacks (it/en), fetched once the banner is up. */
  prefsTexts?: () => Promise<PrefsMessages | undefined>;
  /** Fetches the preference center and its styles (a lazy chunk in the script-tag build). */
  preferences: Loaders['preferences'];
  /** The page's nonce, for the `<style>` fallback when constructable stylesheets are missing. */
  nonce?: string;
  /** The identity API for the preference center's "Your devices" (default: the script tag's `assenso.identity`). */
  identity?: IdentityLoader;
  /** Receives the notice builder, so that receipts hash exactly what this UI shows. */
  onNotice?: (notice: () => ShownNotice) => void;
}

export interface MountedUi {
  /** The shadow root (open, so that tests and assistive technology can reach it). */
  root: ShadowRoot;
  unmount(): void;
}

/**
 * Puts the widget into the page: a host element first in <body> (early in the tab order) with an open
 * shadow root, styles adopted from a constructable stylesheet, and a render loop driven by the controller's
 * state (`view`: none, banner, preferences). All DOM and focus work is here (the download of receipts, with the
 * draft logic, comes with the preference center chunk); the components only
 * get props and call back. The preference center is a separate chunk, fetched when first opened.
 */
export function mountUi(controller: ConsentController, options: MountOptions): MountedUi {
  const config = controller.config;
  const lang = options.language;
  let m = withSiteTexts(options.messages, config, lang);
  // The preference center's texts: fetched once, when the browser is idle after the banner (or on opening).
  // Receipts hash what the page holds (the banner's texts, and these once here: in practice always).
  let texts: Promise<void> | undefined;
  const allTexts = () =>
    (texts ??= (options.prefsTexts?.() ?? Promise.resolve(undefined)).then(
      (p) => {
        if (p) m = withSiteTexts({ ...p, ...options.messages }, config, lang);
      },
      (e) => {
        texts = undefined; // fetched again at the next opening
        throw e;
      },
    ));
  const privacyUrl = localize(config.privacyPolicyUrl, lang) || undefined;
  options.onNotice?.(() => ({ language: lang, texts: { ...m, privacyPolicyUrl: privacyUrl ?? '' } }));

  // A page whose own custom element took the name (and its shadow root) gets the banner under another one.
  let host = document.createElement('assenso-consent');
  let root: ShadowRoot;
  try {
    root = host.attachShadow({ mode: 'open' });
  } catch {
    console.warn('[assenso] <assenso-consent> is defined by another script; using <assenso-banner>');
    host = document.createElement('assenso-banner');
    root = host.attachShadow({ mode: 'open' });
  }
  host.setAttribute('lang', lang);
  adoptStyles(root, config.themeTokens, options.nonce);
  const box = document.createElement('div');
  root.append(box);
  // In the top layer where the browser has one for it (a manual popover: no light dismiss, no focus change),
  // above any z-index of the page's: a chat widget at the maximum z-index, later in the DOM, took the banner's
  // clicks. Elsewhere (Safari before 17) the maximum z-index. Inserted again, it is shown again.
  const insert = () => {
    document.body.prepend(host);
    try {
      host.popover = 'manual';
      host.showPopover();
    } catch {}
  };
  insert();

  /** The preference center's view, once its chunk is here. */
  let P: ReturnType<PreferencesModule['preferencesView']> | undefined;
  let status = '';
  /** The preference center could not load at its last opening: the banner says so until it opens. */
  let failed = false;
  let shown: View = 'none';
  let opening = false;
  /** The decision the open preference center started from. */
  let basis: ConsentState['decision'] | undefined;
  // A close request the browser carried out itself closes the preference center as its × does.
  const trap = createFocusTrap(root, host, () => shown === 'preferences' && controller.hide());
  // A page that replaces or empties its <body> (Turbo, htmx boosting, a framework's root render) takes the
  // widget with it: it goes back in, first, whenever something is shown, and while it is shown.
  const back = () => {
    if (!host.isConnected && document.body) {
      insert();
      trap.back();
    }
  };
  const swaps = new MutationObserver(back);
  let gone = false;

  // A decision made here is announced once the core has stored it.
  const decide = (made: Promise<unknown>) =>
    made.then(
      () => {
        status = m.saved;
        update();
      },
      () => {},
    );

  /**
   * The banner's sentences, a category list in them as parts: a title that fell back to another language than
   * the widget's (the site did not translate it) is marked with its own, for screen readers (WCAG 3.1.2).
   */
  const notices = (state: ConsentState): ComponentChildren[] => {
    const sentence = (template: string, ids: string[]) => {
      const titles = ids.flatMap((id, i) => {
        const t = config.categories.find((c) => c.id === id)?.title;
        const name = localize(t, lang) || id;
        const l = textLang(t, lang);
        // "a", "a and b", "a, b and c" in the catalog's language.
        return [i ? (i < ids.length - 1 ? ', ' : ` ${m.and} `) : '', l ? <span lang={l}>{name}</span> : name];
      });
      return template.split('{categories}').flatMap((part, i) => (i ? [titles, part] : [part]));
    };
    const prompt = state.prompt;
    const out: ComponentChildren[] = [];
    if (prompt?.reason === 'revision') out.push(m.reasonRevision);
    // Only what was chosen before can have expired (not a category added since).
    if (prompt?.reason === 'expired')
      out.push(
        sentence(
          m.reasonExpired,
          prompt.categories.filter((id) => id in prompt.previous!.categories),
        ),
      );
    // Not one the visitor turned on while sending GPC: GPC does not keep that one off.
    const off = state.gpc.categories.filter((id) => !state.granted.categories[id]);
    if (state.gpc.active && off.length) out.push(sentence(m.gpcHonoured, off));
    if (failed) out.push(m.prefsFailed);
    return out;
  };

  function update(): void {
    // Late callers (a chunk or a decision that settles after unmount()) must not bring the widget back.
    if (gone) return;
    const state = controller.getState();
    let view = state.view;
    if (view !== 'preferences') opening = false;
    else if (shown === 'preferences' && state.decision !== basis) {
      // Decided elsewhere while open (another tab, a placeholder): the switches show it, not a stale draft
      // whose Save would undo it.
      basis = state.decision;
      P?.open(state);
    } else if (shown !== 'preferences') {
      if (!opening) {
        // Opening (once per opening): the view starts from the stored (or previous) choices.
        opening = true;
        basis = state.decision;
        P?.open(state);
        if (!P)
          Promise.all([options.preferences(), controller.notice(lang), allTexts()]).then(
            ([chunk, notice]) => {
              addStyles(root, chunk.css, options.nonce);
              P = chunk.preferencesView({
                controller,
                categories: notice.categories,
                privacyUrl,
                identity: options.identity,
                lang,
                root,
                update,
                decide,
              });
              P.open(controller.getState());
              update();
            },
            // The chunk or its texts did not come (offline, a flaky network): back to the view it was opened
            // from, so that the next opening tries again, and said once on the console.
            // The visitor is told too, on the banner (Accept all and Reject all still work there), and by the
            // status region once the banner is up.
            (e) => {
              console.warn(
                '[assenso] the preference center could not load; it is tried again when opened.',
                e,
              );
              failed = true;
              controller.open('banner');
              setTimeout(() => {
                status = m.prefsFailed;
                update();
              }, 100);
            },
          );
      }
      // Shown only with every text (offline without them: the previous view stays, like without the chunk).
      if (!(P && 'prefsTitle' in m)) view = shown;
    }
    if (view !== shown) {
      // A status is said once, not again by the next view's (new) status region.
      if (view !== 'none') status = '';
      if (view !== 'banner') failed = false;
    }
    const modal = view === 'preferences' || (view === 'banner' && config.layout === 'modal');
    if (view !== 'none') back();
    box.className = `r ${config.theme}`;
    render(
      <>
        {view === 'banner' && (
          <Banner
            m={m}
            layout={config.layout}
            notices={notices(state)}
            privacyUrl={privacyUrl}
            onAcceptAll={() => decide(controller.acceptAll(state.prompt?.categories))}
            onRejectAll={() => decide(controller.rejectAll(state.prompt?.categories))}
            onCustomise={() => controller.open('preferences')}
            // × keeps only the required category when the banner asks (Garante 2021); when it asks nothing (shown
            // again after a decision: the preference center could not load, or the page's open('banner')) it
            // only closes: it withdrew a returning visitor's consent.
            onClose={() =>
              state.prompt ? decide(controller.close(state.prompt.categories)) : controller.hide()
            }
          />
        )}
        {view === 'preferences' && P!.render(state, m as Messages)}
        <p class="sr" role="status">
          {status}
        </p>
      </>,
      box,
    );
    if (view !== shown) {
      const from = shown;
      shown = view;
      if (view === 'none') swaps.disconnect();
      else swaps.observe(document.documentElement, { childList: true, subtree: true });
      // Back from the preference center to the banner: focus returns to Customise.
      const focus = view === 'banner' && from === 'preferences' ? '.b:nth-child(2)' : null;
      trap.show(view === 'none' ? null : box.querySelector<HTMLElement>('[role=dialog]'), modal, focus);
    }
  }

  const unsubscribe = controller.subscribe(update);
  update();
  void idle().then(allTexts).catch(noop);

  return {
    root,
    unmount() {
      gone = true;
      unsubscribe();
      swaps.disconnect();
      trap.release();
      host.remove();
    },
  };
}

function noop(): void {}
