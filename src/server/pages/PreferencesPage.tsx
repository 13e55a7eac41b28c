/**
 * @module
 * The hosted preference center: one switch per purpose × channel, with its state and expiry. Server-rendered
 * (document.tsx) and hydrated by client.tsx. Without JavaScript every control is a plain form: checkboxes
 * (styled as the widget's switches) posted with a CSRF token, then a redirect back with a notice.
 * With JavaScript the same forms are sent with fetch and the page updates in place.
 */
import { useRef, useState } from 'preact/hooks';
import type { PageLanguage } from '../email/config-schema.ts';
import { PAGE_MESSAGES } from './messages.ts';

export interface ChannelState {
  channel: string;
  granted: boolean;
  /** "Valid until …" / "Expired on …" / "Not chosen yet", already in the page language. */
  status: string;
  expired: boolean;
}

export interface PurposeState {
  id: string;
  title: string;
  description: string;
  channels: ChannelState[];
}

/** Everything the page shows; serialised into the page for hydration, and answered as JSON after a change. */
export interface PreferencesPageProps {
  lang: PageLanguage;
  siteName: string;
  csrf: string;
  purposes: PurposeState[];
  /** Message shown at the top after an action (already translated). */
  notice: string | null;
  /** Shows the one-click renewal step first. */
  renew: boolean;
}

type Post = (action: string, form: HTMLFormElement) => Promise<void>;

/** The session's CSRF token and the page's language (what is recorded is in the language shown). */
function FormFields({ csrf, lang }: { csrf: string; lang: PageLanguage }) {
  return (
    <>
      <input type="hidden" name="csrf" value={csrf} />
      <input type="hidden" name="lang" value={lang} />
    </>
  );
}

export function PreferencesPage(props: PreferencesPageProps) {
  const [state, setState] = useState(props);
  const [busy, setBusy] = useState(false);
  // Set at once, before Preact re-renders: a second click or Enter while saving does nothing.
  const sending = useRef(false);
  const m = PAGE_MESSAGES[state.lang];

  // Enhanced submit: only when hydrated (without JS the browser posts the form itself).
  const post: Post = async (action, form) => {
    sending.current = true;
    setBusy(true);
    // The region empties first, so that the same notice again ("saved", twice) is a change, and announced.
    setState((s) => ({ ...s, notice: null }));
    try {
      const res = await fetch(action, {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(new FormData(form) as unknown as Record<string, string>).toString(),
        credentials: 'same-origin',
      });
      if (!res.ok) {
        const notice = res.status === 401 ? m.sessionEnded : res.status === 403 ? m.formStale : m.saveFailed;
        setState((s) => ({ ...s, notice }));
        return;
      }
      setState((await res.json()) as PreferencesPageProps);
    } catch {
      setState((s) => ({ ...s, notice: m.saveFailed }));
    } finally {
      sending.current = false;
      setBusy(false);
    }
  };
  const enhance = (action: string) => (e: Event) => {
    e.preventDefault();
    if (sending.current) return;
    void post(action, e.currentTarget as HTMLFormElement);
  };
  const toggle = (purpose: string, channel: string) => (e: Event) => {
    const on = (e.currentTarget as HTMLInputElement).checked;
    setState((s) => ({
      ...s,
      purposes: s.purposes.map((p) =>
        p.id !== purpose
          ? p
          : { ...p, channels: p.channels.map((c) => (c.channel === channel ? { ...c, granted: on } : c)) },
      ),
    }));
  };

  return (
    <main class="r auto pg" aria-busy={busy}>
      <div class="hd">
        <h1>{m.title(state.siteName)}</h1>
        <p class="mu">{m.intro}</p>
      </div>
      <div class="bd">
        {/* Always there, empty until a notice: a live region inserted or un-hidden with its text already in it
            is not announced by some screen readers (page.css draws it only when it has text). */}
        <p class="nt" role="status" aria-live="polite">
          {state.notice}
        </p>
        {state.renew && (
          <form method="post" action="/p/renew" class="ct rn" onSubmit={enhance('/p/renew')}>
            <h2>{m.renewTitle}</h2>
            <p>{m.renewText}</p>
            <FormFields csrf={state.csrf} lang={state.lang} />
            <div class="bs">
              <button type="submit" class="b" aria-disabled={busy}>
                {m.renew}
              </button>
            </div>
          </form>
        )}
        <form method="post" action="/p/save" onSubmit={enhance('/p/save')}>
          <FormFields csrf={state.csrf} lang={state.lang} />
          <ul>
            {state.purposes.map((p) => (
              <li class="ct" key={p.id}>
                <h2 id={`t-${p.id}`}>{p.title}</h2>
                {p.description && <p class="mu">{p.description}</p>}
                <ul class="chs" aria-labelledby={`t-${p.id}`}>
                  {p.channels.map((c) => {
                    const id = `${p.id}.${c.channel}`;
                    return (
                      <li class="rw ch" key={id}>
                        <input type="hidden" name="shown" value={id} />
                        <label for={`c-${id}`} class="cl">
                          <span>{m.channels[c.channel] ?? c.channel}</span>
                          <span class={c.expired ? 'mu ex' : 'mu'}>{c.status}</span>
                        </label>
                        <input
                          type="checkbox"
                          role="switch"
                          class="sw"
                          id={`c-${id}`}
                          name="granted"
                          value={id}
                          checked={c.granted}
                          onChange={toggle(p.id, c.channel)}
                        />
                      </li>
                    );
                  })}
                </ul>
              </li>
            ))}
          </ul>
          <div class="bs">
            <button type="submit" class="b" aria-disabled={busy}>
              {busy ? m.saving : m.save}
            </button>
          </div>
        </form>
        <section class="ct">
          <h2>{m.otherActions}</h2>
          <form method="post" action="/p/unsubscribe" onSubmit={enhance('/p/unsubscribe')}>
            <FormFields csrf={state.csrf} lang={state.lang} />
            <button type="submit" class="ln" aria-disabled={busy}>
              {m.unsubscribeAll}
            </button>
            <span class="mu"> {m.unsubscribeAllHint}</span>
          </form>
          <p>
            <a class="ln" href="/p/history.json" download="consent-history.json">
              {m.history}
            </a>
            <span class="mu"> {m.historyHint}</span>
          </p>
          <form method="post" action="/p/erasure">
            <FormFields csrf={state.csrf} lang={state.lang} />
            <button type="submit" class="ln">
              {m.erase}
            </button>
            <span class="mu"> {m.eraseHint}</span>
          </form>
        </section>
      </div>
    </main>
  );
}
