import type { LinkQuestion } from '../core/identity.ts';
import type { LinkedDevice } from '../protocol/identity.ts';
import type { DevicesMessages } from './devices-i18n.ts';
import { format } from './i18n/messages.ts';
import { Pairing, type ShownCode } from './Pairing.tsx';

/** What the "Your devices" section shows; src/ui/devices-section.tsx keeps it. */
export interface DevicesView {
  /** The person's linked browsers (this one among them when linked); null while loading. */
  devices: LinkedDevice[] | null;
  code: ShownCode | null;
  /** Epoch ms, for the code's countdown. */
  now: number;
  /** Announced by the live region: what just happened. */
  status: string;
  /** Why the typed code was refused ('' when it was not). */
  claimError: string;
  /**
   * A request is on its way: the buttons that would start another one say so (`aria-disabled`; the section
   * ignores them meanwhile). Not `disabled`, which would drop the keyboard focus of the button just pressed.
   */
  busy: boolean;
  /** A link opened on the page that waits for the visitor's Link or Cancel (IdentityApi.question()). */
  ask: LinkQuestion | null;
  /** Why the link just confirmed was refused ('' when it was not): shown where the question was. */
  askError: string;
}

export interface DevicesProps {
  t: DevicesMessages;
  /** The page's language, for dates. */
  lang: string;
  view: DevicesView;
  onUnlink: (device: LinkedDevice) => void;
  onShowCode: () => void;
  onClaim: (code: string) => void;
  /** Link (true) or Cancel (false) for `view.ask`. */
  onAnswer: (link: boolean) => void;
}

/** Day and time in the page's language (`24 Nov 2026, 10:05`). */
function when(ms: number, lang: string): string {
  try {
    return new Date(ms).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
  } catch {
    return new Date(ms).toISOString();
  }
}

/**
 * "Your devices" in the preference center: first the question about a pairing or email link opened on the
 * page (Link or Cancel), when there is one; the person's linked browsers (browser, first and last seen, this
 * one marked), each with an Unlink button; "Link another device" (src/ui/Pairing.tsx); and a form for a
 * code shown on another device. Props in, callbacks out: the requests are made by devices-section.tsx.
 */
export function Devices({ t, lang, view, onUnlink, onShowCode, onClaim, onAnswer }: DevicesProps) {
  const { devices, ask } = view;
  return (
    <section class="dvs" aria-labelledby="assenso-dv">
      <h3 id="assenso-dv" tabIndex={-1}>
        {t.title}
      </h3>
      {ask && (
        // First in the section, and focused when it appears (devices-section.tsx): the question and what it
        // means are its name and description, read as the focus lands on it.
        <div
          class="ask"
          role="group"
          aria-labelledby="assenso-aq"
          aria-describedby="assenso-ah"
          tabIndex={-1}
        >
          <p id="assenso-aq" class="aq">
            {ask.kind === 'pair' ? format(t.askPair, { code: ask.code ?? '' }) : t.askEmail}
          </p>
          <p id="assenso-ah">{ask.kind === 'pair' ? t.askPairHelp : t.askEmailHelp}</p>
          {/* Equal buttons (the banner's grid: same size, same colour); neither is pre-selected. */}
          <div class="bs">
            <button
              type="button"
              class="b"
              aria-disabled={view.busy ? 'true' : undefined}
              onClick={() => onAnswer(true)}
            >
              {t.linkIt}
            </button>
            <button
              type="button"
              class="b"
              aria-disabled={view.busy ? 'true' : undefined}
              onClick={() => onAnswer(false)}
            >
              {t.cancel}
            </button>
          </div>
        </div>
      )}
      {view.askError && <p class="nt">{view.askError}</p>}
      <p class="mu">{t.intro}</p>
      {!devices ? <p>{t.loading}</p> : devices.length < 2 ? <p>{t.alone}</p> : null}
      {devices && devices.length > 0 && (
        <ul class="dl">
          {devices.map((d) => {
            const name = d.current ? `${d.browser} (${t.thisDevice})` : d.browser;
            return (
              <li class="rw">
                <div class="dn">
                  <strong>{name}</strong>
                  <p class="mu">
                    {format(t.seen, { first: when(d.firstSeen, lang), last: when(d.lastSeen, lang) })}
                  </p>
                </div>
                <button
                  type="button"
                  class="ln"
                  aria-label={format(t.unlinkDevice, { device: name })}
                  aria-disabled={view.busy ? 'true' : undefined}
                  onClick={() => onUnlink(d)}
                >
                  {t.unlink}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <Pairing t={t} code={view.code} now={view.now} busy={view.busy} onShowCode={onShowCode} />
      <form
        class="cl"
        onSubmit={(event: Event) => {
          event.preventDefault();
          const form = event.currentTarget as HTMLFormElement;
          onClaim(String(new FormData(form).get('code') ?? ''));
        }}
      >
        <label for="assenso-cc">{t.enter}</label>
        <div class="rw">
          <input
            id="assenso-cc"
            name="code"
            required
            maxLength={16}
            autocomplete="one-time-code"
            autocapitalize="characters"
            spellcheck={false}
            aria-invalid={view.claimError ? 'true' : 'false'}
            aria-describedby={view.claimError ? 'assenso-ce' : undefined}
          />
          <button type="submit" class="b" aria-disabled={view.busy ? 'true' : undefined}>
            {t.claim}
          </button>
        </div>
        {view.claimError && (
          <p id="assenso-ce" class="nt">
            {view.claimError}
          </p>
        )}
      </form>
      <p class="sr" role="status">
        {view.status}
      </p>
    </section>
  );
}
