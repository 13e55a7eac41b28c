/**
 * The preference center's "Your devices" section with its state and requests, mounted into the shadow root
 * of `<assenso-devices>` (devices-element.ts) once the identity API says the site has a receipt server. It
 * has a life of its own (the devices load, a code counts down, the other browser claims it) and renders
 * `Devices` with the widget's DOM patcher, whatever renders around it. It adopts the surrounding shadow
 * root's stylesheets and mirrors its theme class, so it looks like the rest of the dialog.
 *
 * When this browser gets linked here (it typed a code, or its code was used), the person's consent is applied
 * when the preference center closes, not at once: applying a decision closes the preference center, which
 * would cut the person short in the middle of it.
 *
 * A pairing or email link opened on the page (IdentityApi.question()) is asked first in the section, with the
 * focus on the question: only Link links anything (and applies the consent at once: the visitor came for that,
 * and the open preference center follows it); Cancel, or closing the preference center, links nothing.
 */
import type { IdentityApi } from '../core/identity.ts';
import type { LinkedDevice } from '../protocol/identity.ts';
import { Devices, type DevicesView } from './Devices.tsx';
import { type DevicesMessages, devicesMessages } from './devices-i18n.ts';
import css from './devices.css?inline';
import { render } from './dom/render.ts';
import { format } from './i18n/messages.ts';

/** How often a browser showing a code asks whether the other one has used it. */
const POLL_MS = 4000;
/** A code lives 5 minutes (docs/identity.md); used when the server's expiry disagrees with this clock. */
const CODE_MS = 300_000;

const warn = (what: string, e: unknown) => console.warn(`[assenso] ${what} failed:`, e);

/** The language of the nearest `lang` attribute, across shadow roots. */
function langOf(node: Node): string {
  for (let n: Node | null = node; n; n = n.parentNode ?? (n as ShadowRoot).host ?? null)
    if (n instanceof Element && n.hasAttribute('lang')) return n.getAttribute('lang') as string;
  return 'en';
}

/** The text for a refused call (an IdentityError carries `status`). */
function failure(t: DevicesMessages, e: unknown): string {
  const status = (e as { status?: number })?.status;
  return status === 429 ? t.tooMany : status === 404 || status === 400 ? t.badCode : t.failed;
}

/**
 * Shows the section in `host` (its shadow root) for the person behind `api`; returns what to call when the
 * host leaves the page (the preference center closed): timers stop, and a browser linked here applies the
 * person's consent.
 */
export function mountDevices(host: HTMLElement, api: IdentityApi): () => void {
  const section = new Section(host, api);
  return () => section.close();
}

class Section {
  _box: HTMLElement;
  _timer?: ReturnType<typeof setInterval>;
  _ticks = 0;
  /** Linked during this opening: sync when the preference center closes. */
  _linked = false;
  _v: DevicesView = {
    devices: null,
    code: null,
    now: 0,
    status: '',
    claimError: '',
    busy: false,
    ask: null,
    askError: '',
  };

  constructor(
    readonly _host: HTMLElement,
    readonly _api: IdentityApi,
  ) {
    const outer = _host.getRootNode() as ShadowRoot | Document;
    const root = _host.shadowRoot ?? _host.attachShadow({ mode: 'open' });
    const sheets = 'adoptedStyleSheets' in root ? outer.adoptedStyleSheets : [];
    if (sheets.length) {
      const own = new CSSStyleSheet();
      own.replaceSync(css);
      root.adoptedStyleSheets = [...sheets, own];
    } else {
      // No constructable stylesheets: copies of the surrounding <style> elements (their nonce is copied).
      const styles = [...outer.querySelectorAll('style')].map((s) => s.cloneNode(true) as HTMLStyleElement);
      const own = document.createElement('style');
      own.nonce = styles[0]?.nonce ?? '';
      own.textContent = css;
      root.append(...styles, own);
    }
    this._box = document.createElement('div');
    root.append(this._box);
    this._v.ask = _api.question();
    this._render();
    // The question is why the preference center opened: the focus goes to it (the dialog had it meanwhile).
    root.querySelector<HTMLElement>('.ask')?.focus();
    void this._refresh();
  }

  close() {
    // Closed without an answer: nothing is linked.
    if (this._v.ask) void this._api.answer(false);
    this._stop();
    if (this._linked) this._api.sync().catch((e) => warn('applying the linked consent', e));
    this._linked = false;
  }

  _stop() {
    clearInterval(this._timer);
    this._timer = undefined;
  }

  get _t(): DevicesMessages {
    return devicesMessages(langOf(this._host), () => this._render());
  }

  _set(next: Partial<DevicesView>) {
    Object.assign(this._v, next, { now: Date.now() });
    this._render();
  }

  _render() {
    this._box.className = this._host.closest('.r')?.className ?? 'r';
    render(
      <Devices
        t={this._t}
        lang={langOf(this._host)}
        view={this._v}
        onUnlink={(d) => void this._unlink(d)}
        onShowCode={() => void this._showCode()}
        onClaim={(code) => void this._claim(code)}
        onAnswer={(link) => void this._answer(link)}
      />,
      this._box,
    );
  }

  /** Runs one request with the buttons disabled; a refusal is announced (and returned as false). */
  async _run(fn: (api: IdentityApi) => Promise<Partial<DevicesView> | undefined>): Promise<boolean> {
    const api = this._api;
    if (this._v.busy) return false;
    this._set({ busy: true });
    try {
      this._set({ busy: false, ...(await fn(api)) });
      return true;
    } catch (e) {
      this._set({ busy: false, status: failure(this._t, e) });
      return false;
    }
  }

  async _refresh(): Promise<LinkedDevice[] | null> {
    try {
      const { devices } = await this._api.devices();
      this._set({ devices });
      return devices;
    } catch (e) {
      warn('listing the linked devices', e);
      if (!this._v.devices) this._set({ devices: [], status: this._t.failed });
      return null;
    }
  }

  async _unlink(d: LinkedDevice) {
    const name = d.browser;
    const done = await this._run(async (api) => {
      if (d.current) await api.forget();
      else await api.unlink(d.id);
      return { status: d.current ? this._t.unlinkedThis : format(this._t.unlinked, { device: name }) };
    });
    if (!done) return;
    await this._refresh();
    // The button is gone: focus goes to the section's heading rather than to the page.
    this._host.shadowRoot?.querySelector<HTMLElement>('h3')?.focus();
  }

  async _showCode() {
    const sent = Date.now();
    await this._run(async (api) => {
      const { code, expiresAt } = await api.pairingCode();
      const ttl = expiresAt - sent;
      return {
        code: {
          code,
          url: api.pairingUrl(code),
          expiresAt: sent + (ttl > 0 && ttl <= CODE_MS ? ttl : CODE_MS),
        },
        status: format(this._t.codeShown, { code }),
      };
    });
    if (!this._v.code || this._timer) return;
    const before = this._v.devices?.length ?? 0;
    this._ticks = 0;
    this._timer = setInterval(() => {
      const code = this._v.code;
      if (!code || Date.now() >= code.expiresAt) {
        this._stop();
        this._set({ status: code ? this._t.expired : '' });
        return;
      }
      this._set({});
      if (++this._ticks % (POLL_MS / 1000) !== 0) return;
      // Has the other browser used the code? Then this one is linked too: show it, apply the consent.
      void this._refresh().then((devices) => {
        if (!devices || devices.length <= Math.max(before, 1) || !this._v.code) return;
        this._stop();
        this._linked = true;
        this._set({ code: null, status: this._t.paired });
      });
    }, 1000);
  }

  /** Link or Cancel for the link opened on the page; the focus then goes to the heading (the buttons are gone). */
  async _answer(link: boolean) {
    if (this._v.busy) return;
    const done = await this._run(async (api) => {
      const linked = await api.answer(link);
      return {
        ask: null,
        askError: '',
        // A refused email link is said by the preference center itself (notice `link-failed`).
        status: !link ? this._t.notLinked : linked ? this._t.claimed : '',
      };
    });
    // A refused code: said where the question was.
    if (!done) this._set({ ask: null, askError: this._v.status });
    this._host.shadowRoot?.querySelector<HTMLElement>('h3')?.focus();
    if (link) await this._refresh();
  }

  async _claim(typed: string) {
    const code = typed.trim();
    if (!code) return;
    const done = await this._run(async (api) => {
      await api.claim(code, { apply: false });
      this._linked = true;
      return { status: this._t.claimed, claimError: '' };
    });
    if (!done) {
      this._set({ claimError: this._v.status });
      return;
    }
    const input = this._host.shadowRoot?.querySelector('input');
    if (input) input.value = '';
    await this._refresh();
  }
}
