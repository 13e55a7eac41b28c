// A page whose own custom element took the name <assenso-consent> (and gave it a shadow root of its own): the
// widget must still show its banner. In a file of its own: the definition cannot be undone in this page.
import { within } from '@testing-library/preact';
import { expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/create.ts';
import { en } from '../../src/ui/i18n/en.ts';
import { moduleLoaders } from '../../src/ui/lazy.ts';
import { mountUi } from '../../src/ui/mount.tsx';

it('a page whose own custom element took the name <assenso-consent> still gets the banner, with one warning', () => {
  customElements.define(
    'assenso-consent',
    class extends HTMLElement {
      constructor() {
        super();
        this.attachShadow({ mode: 'closed' });
      }
    },
  );
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  const id = `t${Math.random().toString(36).slice(2, 9)}`;
  const controller = createConsent({
    siteId: id,
    cookie: { name: `c_${id}` },
    categories: [{ id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' }],
  });
  controller.start();
  const ui = mountUi(controller, { language: 'en', messages: en, preferences: moduleLoaders.preferences });
  try {
    expect(
      within(ui.root as unknown as HTMLElement).getByRole('dialog', { name: en.bannerTitle }),
    ).toBeTruthy();
    expect(ui.root.host.localName).toBe('assenso-banner');
    expect(ui.root.host.isConnected).toBe(true);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
      '[assenso] <assenso-consent> is defined by another script; using <assenso-banner>',
    ]);
  } finally {
    warn.mockRestore();
    ui.unmount();
    controller.destroy();
  }
});
