/**
 * `<assenso-devices>`: where the preference center puts its "Your devices" section. The preference center
 * is a pure component re-rendered by whoever owns it; the section lives in this element's shadow root, out of
 * either renderer's reach. It asks the identity API whether the site has a receipt server, and only then
 * mounts the section (devices-section.tsx).
 *
 * The section is in the preference center's chunk, not a chunk of its own: split, it would cost about 0.6 kB
 * more in all (a shared JSX-runtime chunk and duplicated helpers) and one more request in a row on every
 * first opening, for 3.8 kB less on sites without a receipt server.
 */
import type { IdentityApi } from '../core/identity.ts';
import { mountDevices } from './devices-section.tsx';

export const DEVICES_TAG = 'assenso-devices';

/** Fetches the identity API (its chunk loads on first use). */
export type IdentityLoader = () => Promise<IdentityApi>;

/** Defines `<assenso-devices>` once per page. Safe to call where there is no DOM (server rendering). */
export function defineDevices(): void {
  const registry = globalThis.customElements;
  if (!registry || registry.get(DEVICES_TAG)) return;
  registry.define(
    DEVICES_TAG,
    class extends HTMLElement {
      _load?: IdentityLoader;
      _on = false;
      _off?: () => void;

      get identity(): IdentityLoader | undefined {
        return this._load;
      }
      set identity(load: IdentityLoader | undefined) {
        const first = !this._load;
        this._load = load;
        if (first) this.connectedCallback();
      }
      connectedCallback() {
        const load = this._load;
        if (!load || !this.isConnected || this._on) return;
        this._on = true;
        load()
          .then((api) => {
            if (api.enabled) this._off = mountDevices(this, api);
          })
          .catch((e) => console.warn('[assenso] the devices section could not be shown:', e));
      }
      disconnectedCallback() {
        this._off?.();
        this._off = undefined;
      }
    },
  );
}

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      /** The "Your devices" section (src/ui/devices-element.ts). */
      'assenso-devices': HTMLAttributes<HTMLElement> & { identity?: IdentityLoader };
    }
  }
}
