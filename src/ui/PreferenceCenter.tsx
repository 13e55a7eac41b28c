import type { ConsentController, ConsentState, Localized } from '../core/types.ts';
import type { NoticeCategory, NoticeService } from '../protocol/notice.ts';
import { defineDevices, type IdentityLoader } from './devices-element.ts';
import { downloadReceipts } from './download.ts';
import { initialDraft, toggleCategory, toggleService } from './draft.ts';
import { format, type Messages } from './i18n/messages.ts';
import { Switch } from './Switch.tsx';
import { safeUrl } from './url.ts';
import { textLang } from './notice.ts';

/** The preference center's own rules, adopted by the mount layer when it first opens. */
export { default as css } from './prefs.css?inline';

/** The switches as the visitor has set them so far (not yet saved). */
export interface Draft {
  categories: Record<string, boolean>;
  services: Record<string, boolean>;
}

export interface PreferenceCenterProps {
  m: Messages;
  /** What is shown: the same structure that is hashed into the receipt's notice. */
  categories: NoticeCategory[];
  draft: Draft;
  privacyUrl?: string;
  /** Offer "Download my consent receipt" (there is at least one receipt on this device). */
  canDownload?: boolean;
  onCategory: (id: string, on: boolean) => void;
  onService: (categoryId: string, serviceId: string, on: boolean) => void;
  onSave: () => void;
  onAcceptAll: () => void;
  onRejectAll: () => void;
  onClose: () => void;
  onDownload?: () => void;
  /** Said first, as an alert (e.g. an email link that was refused). */
  notice?: string;
  /**
   * The identity API, for the "Your devices" section (shown when the site has a receipt server). Default:
   * the script tag's public `assenso.identity()` (docs/identity.md), when the page has it; null: no section
   * (a site without a receipt server, where linking cannot work: its chunks are not even fetched).
   */
  identity?: IdentityLoader | null;
  /**
   * The language of a category's or service's configured text when it is not the widget's (the site did not
   * translate it, and it fell back to another: see `textLang`); marked on its element for screen readers
   * (WCAG 3.1.2). Default: all in the widget's language.
   */
  langOf?: (
    field: 'title' | 'description' | 'purpose' | 'duration',
    category: string,
    service?: string,
    cookie?: number,
  ) => string | undefined;
}

/** The script tag's `window.assenso.identity`, when this page has one. */
function pageIdentity(): IdentityLoader | undefined {
  const api = (globalThis as { assenso?: { identity?: unknown } }).assenso;
  return typeof api?.identity === 'function' ? (api.identity as IdentityLoader) : undefined;
}

function Link({ url, children }: { url: string | undefined; children: string }) {
  const href = safeUrl(url);
  return href ? (
    <a href={href} target="_blank" rel="noopener noreferrer">
      {children}
    </a>
  ) : null;
}

function Service({
  m,
  s,
  category,
  draft,
  onService,
  langOf,
}: Pick<PreferenceCenterProps, 'm' | 'draft' | 'onService' | 'langOf'> & {
  s: NoticeService;
  category: NoticeCategory;
}) {
  const id = `assenso-s-${s.id}`;
  return (
    <li class="sv">
      <div class="rw">
        <h4 id={id}>{s.name}</h4>
        <Switch
          on={category.required || draft.services[s.id] === true}
          labelledBy={id}
          disabled={category.required}
          onChange={(on) => onService(category.id, s.id, on)}
        />
      </div>
      {s.provider && <p class="mu">{format(m.providedBy, { provider: s.provider })}</p>}
      {s.purpose && <p lang={langOf?.('purpose', category.id, s.id)}>{s.purpose}</p>}
      {s.cookies.length > 0 && (
        <table>
          <caption>{m.cookies}</caption>
          <thead>
            <tr>
              <th scope="col">{m.cookieName}</th>
              <th scope="col">{m.cookieDuration}</th>
              <th scope="col">{m.cookiePurpose}</th>
            </tr>
          </thead>
          <tbody>
            {s.cookies.map((c, i) => (
              <tr>
                <td>{c.name}</td>
                <td lang={langOf?.('duration', category.id, s.id, i)}>{c.duration}</td>
                <td lang={langOf?.('purpose', category.id, s.id, i)}>{c.purpose}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Link url={s.privacyUrl}>{format(m.servicePrivacy, { service: s.name })}</Link>
    </li>
  );
}

/**
 * The second layer: one switch per category (the required one on and disabled), each category's services
 * with their own switches and cookies, and Save / Accept all / Reject all as equal buttons. A modal dialog
 * that Escape closes; focus handling lives in the mount layer, which owns the DOM.
 */
export function PreferenceCenter(props: PreferenceCenterProps) {
  const { m, categories, draft } = props;
  const identity = props.identity === null ? undefined : (props.identity ?? pageIdentity());
  if (identity) defineDevices();
  return (
    // A <dialog>, rendered open and shown modal by the mount layer (focus.ts).
    <dialog
      open
      class="pc"
      role="dialog"
      aria-modal="true"
      aria-labelledby="assenso-pt"
      // A click on its text focuses the dialog itself, not <body>: Escape and the focus trap still work.
      tabIndex={-1}
      onKeyDown={(event: KeyboardEvent) => {
        // Escape closes it, like the × (and goes no further: the page's own Escape handlers stay out, and the
        // browser does not close the <dialog> itself).
        if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          props.onClose();
        }
      }}
    >
      <div class="hd">
        <h2 id="assenso-pt">{m.prefsTitle}</h2>
        <button type="button" class="x" aria-label={m.closePrefs} onClick={props.onClose}>
          ×
        </button>
      </div>
      <div class="bd">
        {props.notice && (
          <p class="nt" role="alert">
            {props.notice}
          </p>
        )}
        <p>
          {m.prefsIntro} <Link url={props.privacyUrl}>{m.privacyPolicy}</Link>
        </p>
        <ul class="cs">
          {categories.map((c) => {
            const id = `assenso-c-${c.id}`;
            return (
              <li class="ct">
                <div class="rw">
                  <h3 id={id} lang={props.langOf?.('title', c.id)}>
                    {c.title}
                  </h3>
                  {c.required && <span class="mu">{m.alwaysOn}</span>}
                  <Switch
                    on={c.required || draft.categories[c.id] === true}
                    labelledBy={id}
                    disabled={c.required}
                    onChange={(on) => props.onCategory(c.id, on)}
                  />
                </div>
                <p lang={props.langOf?.('description', c.id)}>{c.description}</p>
                {c.services.length > 0 && (
                  <details>
                    <summary aria-describedby={id}>
                      {format(m.showServices, { count: c.services.length })}
                    </summary>
                    <ul>
                      {c.services.map((s) => (
                        <Service
                          m={m}
                          s={s}
                          category={c}
                          draft={draft}
                          onService={props.onService}
                          langOf={props.langOf}
                        />
                      ))}
                    </ul>
                  </details>
                )}
              </li>
            );
          })}
        </ul>
        {props.canDownload && (
          <button type="button" class="ln" onClick={props.onDownload}>
            {m.downloadReceipt}
          </button>
        )}
        {identity && <assenso-devices identity={identity} />}
      </div>
      <div class="bs">
        <button type="button" class="b" onClick={props.onRejectAll}>
          {m.rejectAll}
        </button>
        <button type="button" class="b" onClick={props.onAcceptAll}>
          {m.acceptAll}
        </button>
        <button type="button" class="b" onClick={props.onSave}>
          {m.save}
        </button>
      </div>
    </dialog>
  );
}

/** What the mount layer lends the preference center: the controller, what it shows, and its render loop. */
export interface PreferencesHost {
  controller: ConsentController;
  /** The categories and services shown: those of the notice the receipts hash (`controller.notice()`). */
  categories: NoticeCategory[];
  privacyUrl?: string;
  identity?: IdentityLoader;
  /** The widget's language (its host's `lang`). */
  lang: string;
  root: ShadowRoot;
  /** Renders again (after a switch, or once the receipts are counted). */
  update(): void;
  /** Announces a decision once the core has stored it. */
  decide(made: Promise<unknown>): void;
}

/**
 * The preference center's state between renders (the switches not yet saved, whether there is a receipt to
 * download) and its callbacks: part of the preference center chunk, so that the first file carries none of it.
 */
export function preferencesView(h: PreferencesHost) {
  const { controller: c, categories } = h;
  let draft: Draft = initialDraft(categories, null);
  let canDownload = false;
  const byId = (id: string) => categories.find((x) => x.id === id);
  const configured = (id: string) => c.config.categories.find((x) => x.id === id);
  return {
    /**
     * Each opening starts from the stored (or previous, when asked again) choices, less what Global Privacy
     * Control denies now: the core applies GPC over a choice made without it (Decision.gpc false), so those
     * switches start off, as applied.
     */
    open(state: ConsentState) {
      const d = state.decision ?? state.prompt?.previous ?? null;
      draft = initialDraft(
        categories,
        d && { categories: d.categories, services: d.services },
        state.decision?.gpc ? [] : state.gpc.categories,
      );
      c.receipts().then((log) => {
        canDownload = log.acknowledged.length + log.pending.length > 0;
        h.update();
      }, noop);
    },
    render: (state: ConsentState, m: Messages) => (
      <PreferenceCenter
        m={m}
        categories={categories}
        draft={draft}
        privacyUrl={h.privacyUrl}
        canDownload={canDownload}
        identity={c.config.endpoint ? h.identity : null}
        notice={state.notice === 'link-failed' ? m.linkFailed : undefined}
        onCategory={(id, on) => {
          const x = byId(id);
          if (x) draft = toggleCategory(draft, x, on);
          h.update();
        }}
        onService={(categoryId, serviceId, on) => {
          const x = byId(categoryId);
          if (x) draft = toggleService(draft, x, serviceId, on);
          h.update();
        }}
        onSave={() => h.decide(c.save({ ...draft, method: 'preferences' }))}
        onAcceptAll={() => h.decide(c.acceptAll())}
        onRejectAll={() => h.decide(c.rejectAll())}
        onClose={() => c.hide()}
        onDownload={() => downloadReceipts(c, h.root).catch(noop)}
        langOf={(field, id, service, cookie) => {
          const x = configured(id);
          const s = service ? x?.services.find((v) => v.id === service) : undefined;
          // The cookie's field, else the service's (its purpose), else the category's (title, description).
          const at = (cookie === undefined ? (s ?? x) : s?.cookies[cookie]) as
            | Record<string, Localized>
            | undefined;
          return textLang(at?.[field], h.lang);
        }}
      />
    ),
  };
}

function noop(): void {}
