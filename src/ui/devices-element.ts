/**
 * `<assenso-devices>`: where the preference center puts its "Your devices" section. The preference center
 * is a pure component re-rendered by whoever owns it; the section lives in this element's shadow root, out of
 * either renderer's reach. It asks the identity API whether the site has a receipt server, and only then
 * fetches and mounts the section (devices-section.tsx, the script tag's `chunks/devices.js`): a site without
 * a receipt server never downloads it.
 */
import type { IdentityApi } from '../core/identity.ts';

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
          .then(async (api) => {
            if (!api.enabled) return;
            const { mountDevices } = await import('./devices-section.tsx');
            // Closed while the section's chunk loaded: nothing to show (and nothing to ask the server).
            if (this.isConnected) this._off = mountDevices(this, api);
            else this._on = false;
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
