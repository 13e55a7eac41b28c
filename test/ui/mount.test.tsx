import { waitFor, within } from '@testing-library/preact';
import axe from 'axe-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import { createConsent } from '../../src/core/create.ts';
import { noticeOf } from '../../src/core/notice.ts';
import type { AssensoConfig, ConsentController, ConsentDeps, Layout, Theme } from '../../src/core/types.ts';
import { noticeHash } from '../../src/protocol/notice.ts';
import { BUILT_IN } from '../../src/ui/i18n/catalog.ts';
import { en } from '../../src/ui/i18n/en.ts';
import { it as itMessages } from '../../src/ui/i18n/it.ts';
import { attachUi } from '../../src/ui/attach.ts';
import { moduleLoaders } from '../../src/ui/lazy.ts';
import { type MountedUi, type MountOptions, mountUi } from '../../src/ui/mount.tsx';

const CATEGORIES: AssensoConfig['categories'] = [
  { id: 'necessary', required: true, title: 'Necessary', description: 'Needed to run the site.' },
  {
    id: 'analytics',
    title: { en: 'Analytics', it: 'Statistiche' },
    description: 'Counting visits.',
    services: [
      {
        id: 'stats',
        name: 'Stats',
        cookies: [{ name: '_stats', duration: '1 year', purpose: 'Visitor id' }],
      },
    ],
  },
  {
    id: 'marketing',
    gpc: true,
    title: 'Marketing',
    description: 'Videos and ads.',
    services: [{ id: 'tube', name: 'Tube' }],
  },
];

interface Setup {
  controller: ConsentController;
  ui: MountedUi;
  q: ReturnType<typeof within>;
  id: string;
}
const live: (() => void)[] = [];
afterEach(() => {
  for (const f of live.splice(0)) f();
});

/** A real controller (its own site id, cookie name and IndexedDB) with the UI mounted. */
function setup(
  over: Partial<AssensoConfig> = {},
  deps: ConsentDeps = {},
  id = `t${Math.random().toString(36).slice(2, 9)}`,
  mount: Partial<MountOptions> = {},
): Setup {
  const config: AssensoConfig = { siteId: id, cookie: { name: `c_${id}` }, categories: CATEGORIES, ...over };
  const controller = createConsent(config, deps);
  controller.start();
  const ui = mountUi(controller, {
    language: 'en',
    messages: en,
    preferences: moduleLoaders.preferences,
    onNotice: (n) => {
      deps.getNotice = n;
    },
    ...mount,
  });
  live.push(() => {
    ui.unmount();
    controller.destroy();
  });
  return { controller, ui, q: within(ui.root as unknown as HTMLElement), id };
}

/** The ES module build's way: a started controller with a decision, and attachUi (detach it when done). */
async function attachedAfterDecision() {
  const id = `t${Math.random().toString(36).slice(2, 9)}`;
  const controller = createConsent({ siteId: id, cookie: { name: `c_${id}` }, categories: CATEGORIES });
  await controller.start();
  await controller.acceptAll();
  return { controller, detach: attachUi(controller, { loaders: moduleLoaders, language: 'en' }) };
}

/** A page's "Cookie settings" link (`href`: where it would go without the widget). */
function settingsLink(href: string) {
  const link = document.createElement('a');
  link.href = href;
  link.setAttribute('data-assenso-open', '');
  link.textContent = 'Cookie settings';
  return link;
}

async function openPreferences(s: Setup) {
  await userEvent.click(s.q.getByRole('button', { name: en.customise }));
  return waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
}

async function audit(s: Setup) {
  const result = await axe.run(s.ui.root.host as HTMLElement, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    resultTypes: ['violations'],
  });
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe('mounted widget', () => {
  it('shows the banner first in the page, in a shadow root, without stealing focus', () => {
    const s = setup();
    expect(document.body.firstElementChild).toBe(s.ui.root.host);
    expect(s.ui.root.mode).toBe('open');
    expect(s.q.getByRole('dialog', { name: en.bannerTitle }).getAttribute('aria-modal')).toBeNull();
    expect(document.activeElement).toBe(document.body);
    expect(s.ui.root.host.getAttribute('style')).toBeNull();
    expect(s.ui.root.querySelector('[style]')).toBeNull();
  });

  it('× keeps only the required category, hides the banner and announces it', async () => {
    const s = setup();
    await userEvent.click(s.q.getByRole('button', { name: en.closeBanner }));
    await waitFor(() => expect(s.controller.getState().decision?.method).toBe('close'));
    expect(s.controller.getState().granted.categories).toEqual({
      necessary: true,
      analytics: false,
      marketing: false,
    });
    expect(s.q.queryByRole('dialog')).toBeNull();
    await waitFor(() => expect(s.q.getByRole('status').textContent).toBe(en.saved));
  });

  it('Customise opens the preference center: focus moves in, is trapped, Escape goes back to Customise', async () => {
    const s = setup();
    const dialog = await openPreferences(s);
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    const seen = new Set<Element | null>();
    for (let i = 0; i < 12; i++) {
      await userEvent.tab();
      seen.add(s.ui.root.activeElement);
      expect(dialog.contains(s.ui.root.activeElement), `tab ${i}`).toBe(true);
    }
    await userEvent.tab({ shift: true });
    expect(dialog.contains(s.ui.root.activeElement)).toBe(true);
    expect(seen.size).toBeGreaterThan(4);
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(s.q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull());
    expect(s.q.getByRole('dialog', { name: en.bannerTitle })).toBeTruthy();
    expect(s.ui.root.activeElement?.textContent).toBe(en.customise);
    expect(s.controller.getState().decision).toBeNull();
  });

  it('keyboard only: switch a category on with Space and save', async () => {
    const s = setup();
    await openPreferences(s);
    const analytics = s.q.getByRole('switch', { name: 'Analytics' });
    analytics.focus();
    await userEvent.keyboard(' ');
    expect(analytics.getAttribute('aria-checked')).toBe('true');
    expect(s.ui.root.activeElement).toBe(analytics);
    s.q.getByRole('button', { name: en.save }).focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => expect(s.controller.getState().decision?.method).toBe('preferences'));
    expect(s.controller.getState().granted.categories).toEqual({
      necessary: true,
      analytics: true,
      marketing: false,
    });
    expect(s.controller.has('stats')).toBe(true);
    expect(s.q.queryByRole('dialog')).toBeNull();
  });

  it('opened from a page control after a decision, focus returns there on close', async () => {
    const s = setup();
    await s.controller.rejectAll();
    const button = document.createElement('button');
    button.textContent = 'Cookie settings';
    document.body.append(button);
    live.push(() => button.remove());
    button.focus();
    s.controller.open('preferences');
    const dialog = await waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    // The stored choices are shown.
    expect(s.q.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked')).toBe('false');
    await userEvent.click(s.q.getByRole('button', { name: en.closePrefs }));
    await waitFor(() => expect(s.q.queryByRole('dialog')).toBeNull());
    expect(document.activeElement).toBe(button);
  });

  it('opened from a page control while the banner shows, Escape returns focus to that control', async () => {
    const s = setup();
    const link = document.createElement('button');
    link.textContent = 'Cookie settings';
    document.body.append(link);
    live.push(() => link.remove());
    link.focus();
    s.controller.open('preferences');
    const dialog = await waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(s.q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull());
    // The banner still asks (nothing was decided); focus is back where the visitor was, not in the banner.
    expect(s.q.getByRole('dialog', { name: en.bannerTitle })).toBeTruthy();
    expect(document.activeElement).toBe(link);
  });

  it('a preference center chunk that failed to load once is fetched again on the next opening', async () => {
    let calls = 0;
    const preferences = () =>
      ++calls === 1 ? Promise.reject(new Error('offline')) : moduleLoaders.preferences();
    const s = setup({}, {}, undefined, { preferences });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await userEvent.click(s.q.getByRole('button', { name: en.customise }));
    // The banner stays, usable, the controller is back on it, and one warning says what failed.
    await waitFor(() => expect(s.controller.getState().view).toBe('banner'));
    expect(s.q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull();
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      '[assenso] the preference center could not load; it is tried again when opened.',
    ]);
    warn.mockRestore();
    await openPreferences(s);
    expect(calls).toBe(2);
  });

  it('after a decision, the banner shown because the preference center could not load: × only closes it', async () => {
    const s = setup({}, {}, undefined, { preferences: () => Promise.reject(new Error('offline')) });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const d = await s.controller.acceptAll();
      s.controller.open('preferences');
      await waitFor(() => expect(s.controller.getState().view).toBe('banner'));
      const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
      await userEvent.click(within(banner).getByRole('button', { name: en.closeBanner }));
      await waitFor(() => expect(s.controller.getState().view).toBe('none'));
      expect(s.controller.getState().decision?.receiptId).toBe(d.receiptId);
      expect(s.controller.has('marketing')).toBe(true);
    } finally {
      warn.mockRestore();
    }
  });

  it('preference center texts that failed to load once are fetched again on the next opening', async () => {
    let calls = 0;
    const s = setup({}, {}, undefined, {
      messages: BUILT_IN.en!,
      prefsTexts: () =>
        ++calls <= 2 ? Promise.reject(new Error('offline')) : moduleLoaders.prefsTexts('en'),
    });
    // The idle prefetch fails (quietly), then the first opening's fetch too: back on the banner, said once.
    await waitFor(() => expect(calls).toBe(1));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await userEvent.click(s.q.getByRole('button', { name: en.customise }));
    await waitFor(() => expect(s.controller.getState().view).toBe('banner'));
    expect(s.q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    await openPreferences(s);
    expect(calls).toBe(3);
  });

  it.each([
    // Safari and assistive technology press a button without focusing it: focus stays on the page's element.
    { how: 'a click that leaves focus alone', click: (b: HTMLElement) => b.click(), stays: true },
    // Chromium focuses a clicked button: focus leaves with the banner, to <body>, and nothing scrolls.
    { how: 'a pointer click', click: (b: HTMLElement) => userEvent.click(b), stays: false },
  ])(
    'a non-modal banner leaves focus and scroll to the page when deciding with $how',
    async ({ click, stays }) => {
      // An autofocused field at the top of a tall page, focused when the banner appears.
      const field = document.createElement('input');
      const tall = document.createElement('div');
      tall.style.height = '5000px';
      const below = document.createElement('button');
      below.textContent = 'Read more';
      document.body.append(field, tall, below);
      live.push(() => {
        for (const el of [field, tall, below]) el.remove();
      });
      field.focus();
      const s = setup();
      // The visitor reads on, far down the page, then decides.
      below.focus();
      const y = scrollY;
      expect(y).toBeGreaterThan(1000);
      await click(s.q.getByRole('button', { name: en.acceptAll }));
      await waitFor(() => expect(s.q.queryByRole('dialog')).toBeNull());
      expect(scrollY).toBe(y);
      expect(document.activeElement).toBe(stays ? below : document.body);
    },
  );

  it('unmounted while the preference center is on its way: the late chunk does not bring the widget back', async () => {
    const s = setup();
    s.controller.open('preferences');
    s.ui.unmount();
    await moduleLoaders.preferences();
    await new Promise((r) => setTimeout(r, 100));
    expect(document.querySelector('assenso-consent')).toBeNull();
    expect(s.ui.root.host.isConnected).toBe(false);
  });

  it('modal layout: the banner is a modal dialog with focus moved in and trapped', async () => {
    const s = setup({ layout: 'modal' });
    const dialog = s.q.getByRole('dialog', { name: en.bannerTitle });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    for (let i = 0; i < 6; i++) {
      await userEvent.tab();
      expect(dialog.contains(s.ui.root.activeElement)).toBe(true);
    }
    // In the top layer, the page behind inert and dimmed by its backdrop.
    expect(dialog.matches(':modal')).toBe(true);
    expect(getComputedStyle(dialog, '::backdrop').backgroundColor).toBe('rgba(0, 0, 0, 0.6)');
  });

  it('says why it is back: a new revision, and GPC honoured', async () => {
    const id = `t${Math.random().toString(36).slice(2, 9)}`;
    const first = setup({ revision: '1' }, {}, id);
    await first.controller.acceptAll();
    for (const f of live.splice(0)) f();
    const s = setup({ revision: '2' }, { gpc: true }, id);
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
    expect(banner.textContent).toContain(en.reasonRevision);
    expect(banner.textContent).toContain(en.gpcHonoured.replace('{categories}', 'Marketing'));
  });

  it('GPC: the banner names only the categories GPC keeps off, not one the visitor turned on while sending it', async () => {
    const id = `t${Math.random().toString(36).slice(2, 9)}`;
    await setup({}, { gpc: true }, id).controller.save({ categories: { marketing: true } });
    for (const f of live.splice(0)) f();
    // A category added since (same revision) brings the banner back; marketing stays on.
    const added = { id: 'social', title: 'Social', description: 'Share buttons', gpc: true };
    const s = setup({ categories: [...CATEGORIES, added] }, { gpc: true }, id);
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
    expect(s.controller.has('marketing')).toBe(true);
    expect(banner.textContent).toContain(en.gpcHonoured.replace('{categories}', 'Social'));
    expect(banner.textContent).not.toContain('Marketing');
  });

  it('GPC sent after an accept-all made without it: the preference center starts with its categories off, and Save keeps them denied', async () => {
    const id = `t${Math.random().toString(36).slice(2, 9)}`;
    await setup({}, {}, id).controller.acceptAll();
    for (const f of live.splice(0)) f();
    const s = setup({}, { gpc: true }, id);
    await waitFor(() => expect(s.controller.getState().gpc.categories).toEqual(['marketing']));
    expect(s.controller.has('marketing')).toBe(false);
    s.controller.open('preferences');
    await waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
    expect(s.q.getByRole('switch', { name: 'Marketing' }).getAttribute('aria-checked')).toBe('false');
    expect(s.q.getByRole('switch', { name: 'Tube', hidden: true }).getAttribute('aria-checked')).toBe(
      'false',
    );
    expect(s.q.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked')).toBe('true');
    await userEvent.click(s.q.getByRole('button', { name: en.save }));
    await waitFor(() => expect(s.controller.getState().decision?.method).toBe('preferences'));
    expect(s.controller.has('marketing')).toBe(false);
    expect(s.controller.has('tube')).toBe(false);
    expect(s.controller.has('analytics')).toBe(true);
  });

  it('an expired category: the banner names only it (not one added since) and its answer leaves the others alone', async () => {
    const id = `t${Math.random().toString(36).slice(2, 9)}`;
    const categories = CATEGORIES.map((c) => (c.id === 'analytics' ? { ...c, lifetimeDays: 30 } : c));
    await setup({ categories }, {}, id).controller.save({
      categories: { analytics: true, marketing: false },
    });
    for (const f of live.splice(0)) f();
    const later = {
      now: () => Date.now() + 31 * 86_400_000,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as number),
    };
    const added = [...categories, { id: 'social', title: 'Social', description: 'Sharing.' }];
    const s = setup({ categories: added }, { clock: later }, id);
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
    expect(banner.textContent).toContain(en.reasonExpired.replace('{categories}', 'Analytics'));
    expect(s.controller.getState().prompt?.categories).toEqual(['analytics', 'social']);
    await userEvent.click(s.q.getByRole('button', { name: en.acceptAll }));
    await waitFor(() => expect(s.controller.getState().prompt).toBeNull());
    expect([
      s.controller.has('analytics'),
      s.controller.has('social'),
      s.controller.has('marketing'),
    ]).toEqual([true, true, false]);
  });

  it('the open preference center follows a decision made elsewhere (a placeholder, another tab), and Save keeps it', async () => {
    const s = setup();
    await openPreferences(s);
    expect(s.q.getByRole('switch', { name: 'Tube', hidden: true }).getAttribute('aria-checked')).toBe(
      'false',
    );
    await s.controller.allowService('tube');
    await waitFor(() =>
      expect(s.q.getByRole('switch', { name: 'Tube', hidden: true }).getAttribute('aria-checked')).toBe(
        'true',
      ),
    );
    await userEvent.click(s.q.getByRole('button', { name: en.save }));
    await waitFor(() => expect(s.controller.getState().decision?.method).toBe('preferences'));
    expect(s.controller.has('tube')).toBe(true);
  });

  it('stays open when another tab decides, its switches following that decision', async () => {
    const s = setup();
    await s.controller.acceptAll();
    s.controller.open('preferences');
    await waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
    const analytics = () => s.q.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked');
    expect(analytics()).toBe('true');
    // Another tab of the site: its own controller, the same cookie, database and channel.
    const other = createConsent({ siteId: s.id, cookie: { name: `c_${s.id}` }, categories: CATEGORIES });
    live.push(() => other.destroy());
    await other.start();
    await other.rejectAll();
    await waitFor(() => expect(s.controller.has('analytics')).toBe(false));
    expect(s.controller.getState().view).toBe('preferences');
    await waitFor(() => expect(analytics()).toBe('false'));
  });

  it.each([
    [['IT', 'EN'], 'it', itMessages.acceptAll, 'Statistiche'],
    [['en-GB', 'it-IT', 'de-DE'], 'de', 'Alle akzeptieren', 'Analytics'],
  ])(
    'languages %j on a page in %s: the banner speaks it (any case, a region on either side)',
    async (languages, pageLang, accept, analytics) => {
      const id = `t${Math.random().toString(36).slice(2, 9)}`;
      const controller = createConsent({
        siteId: id,
        cookie: { name: `c_${id}` },
        categories: CATEGORIES,
        languages,
      });
      const before = document.documentElement.lang;
      document.documentElement.lang = pageLang;
      const detach = attachUi(controller, { loaders: moduleLoaders });
      live.push(() => {
        detach();
        controller.destroy();
        document.documentElement.lang = before;
      });
      controller.start();
      const host = await waitFor(() => {
        const h = document.querySelector('assenso-consent');
        expect(h).not.toBeNull();
        return h!;
      });
      const q = within(host.shadowRoot as unknown as HTMLElement);
      await waitFor(() => q.getByRole('button', { name: accept }));
      await userEvent.click(
        q.getByRole('button', { name: new RegExp(pageLang === 'it' ? 'Personalizza' : 'Anpassen') }),
      );
      await waitFor(() => q.getByRole('switch', { name: analytics }));
    },
  );

  it('ES module build: attachUi makes data-assenso-open links open the preference center, and stops on detach', async () => {
    const { controller, detach } = await attachedAfterDecision();
    const link = document.createElement('a');
    link.href = '#cookies';
    link.setAttribute('data-assenso-open', '');
    const inner = document.createElement('span');
    inner.textContent = 'Cookie settings';
    link.append(inner);
    document.body.append(link);
    live.push(() => {
      detach();
      controller.destroy();
      link.remove();
    });
    inner.click();
    expect(controller.getState().view).toBe('preferences');
    expect(location.hash).not.toBe('#cookies');
    controller.hide();
    detach();
    inner.click();
    expect(controller.getState().view).toBe('none');
  });

  it("a data-assenso-open link inside the page's own shadow root (a footer web component) opens it too", async () => {
    const { controller, detach } = await attachedAfterDecision();
    const footer = document.createElement('div');
    const link = settingsLink('#cookie-settings');
    footer.attachShadow({ mode: 'open' }).append(link);
    document.body.append(footer);
    live.push(() => {
      detach();
      controller.destroy();
      footer.remove();
    });
    link.click();
    expect(controller.getState().view).toBe('preferences');
    expect(location.hash).not.toBe('#cookie-settings');
  });

  it.each([
    ['one "Cookie settings" link', ['#settings'], 0],
    ['two (header, footer), from the footer', ['#top', '#foot'], 1],
  ] as const)(
    'closed with Escape after the page re-rendered the link it was opened from (%s): focus goes to the new one in its place, not to <body>',
    async (_, hrefs, from) => {
      const { controller, detach } = await attachedAfterDecision();
      const links = hrefs.map((h) => settingsLink(h));
      document.body.prepend(links[0]!);
      document.body.append(...links.slice(1));
      live.push(() => {
        detach();
        controller.destroy();
        for (const a of document.querySelectorAll('a[data-assenso-open]')) a.remove();
      });
      links[from]!.focus();
      await userEvent.keyboard('{Enter}');
      const host = await waitFor(() => document.querySelector('assenso-consent')!);
      const q = within(host.shadowRoot as unknown as HTMLElement);
      await waitFor(() => q.getByRole('dialog', { name: en.prefsTitle }));
      // A framework's new node.
      const fresh = links[from]!.cloneNode(true) as HTMLElement;
      links[from]!.replaceWith(fresh);
      await userEvent.keyboard('{Escape}');
      await waitFor(() => expect(q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull());
      expect(document.activeElement).toBe(fresh);
    },
  );

  it('the modal banner shown again after a close request no longer holds focus: the page it does not block is usable', async () => {
    const input = document.createElement('input');
    document.body.append(input);
    live.push(() => input.remove());
    const s = setup({ layout: 'modal' });
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle }) as HTMLDialogElement & {
      requestClose(): void;
    };
    await waitFor(() => expect(s.ui.root.activeElement).not.toBeNull());
    banner.requestClose();
    await waitFor(() => expect(banner.matches(':modal')).toBe(false));
    await userEvent.click(input);
    await userEvent.keyboard('bread');
    expect(input.value).toBe('bread');
  });

  /** After a decision, the page's own modal dialog holding the opener, clicked: the preference center's queries. */
  async function openFromPageDialog(opener: (controller: ConsentController) => HTMLElement) {
    const { controller, detach } = await attachedAfterDecision();
    const link = opener(controller);
    const pageDialog = document.createElement('dialog');
    pageDialog.append(link);
    document.body.append(pageDialog);
    live.push(() => {
      detach();
      controller.destroy();
      pageDialog.remove();
    });
    pageDialog.showModal();
    await userEvent.click(link);
    const host = await waitFor(() => document.querySelector('assenso-consent')!);
    const q = within(host.shadowRoot as unknown as HTMLElement);
    const center = await waitFor(() => q.getByRole('dialog', { name: en.prefsTitle }));
    // The page's dialog stays as it was (a form in it keeps what the visitor typed), under ours.
    expect(pageDialog.open).toBe(true);
    expect(center.matches(':modal')).toBe(true);
    return { controller, q, pageDialog, link };
  }

  it("a data-assenso-open link in the page's own modal dialog (a menu drawer): the center opens above it, usable, and focus goes back to the link", async () => {
    const { q, pageDialog, link } = await openFromPageDialog(() => settingsLink('#menu-cookies'));
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull());
    expect(pageDialog.matches(':modal')).toBe(true);
    expect(document.activeElement).toBe(link);
  });

  it("assenso.open() from a script while the page's modal dialog is open: the center is usable above it", async () => {
    const { controller, q, pageDialog } = await openFromPageDialog((c) => {
      const button = document.createElement('button');
      button.textContent = 'Privacy choices';
      button.addEventListener('click', () => c.open());
      return button;
    });
    await userEvent.click(q.getByRole('button', { name: en.rejectAll }));
    await waitFor(() => expect(controller.has('analytics')).toBe(false));
    expect(pageDialog.open).toBe(true);
  });

  it('modal layout on a page that opened its own modal dialog first (a newsletter pop-up): the banner answers', async () => {
    const popup = document.createElement('dialog');
    popup.append('Subscribe!');
    document.body.append(popup);
    live.push(() => popup.remove());
    popup.showModal();
    const s = setup({ layout: 'modal' });
    await userEvent.click(s.q.getByRole('button', { name: en.acceptAll }));
    await waitFor(() => expect(s.controller.getState().decision?.method).toBe('accept-all'));
  });

  it('a close request that is no key press (Android back, requestClose) closes the preference center; the modal banner stays, non-modal', async () => {
    const s = setup({ layout: 'modal' });
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle }) as HTMLDialogElement & {
      requestClose(): void;
    };
    expect(banner.matches(':modal')).toBe(true);
    banner.requestClose();
    await new Promise((r) => setTimeout(r, 50));
    // Still shown and asking; not modal again, so that the next back press leaves the page.
    expect(s.q.getByRole('dialog', { name: en.bannerTitle }).checkVisibility()).toBe(true);
    expect(banner.matches(':modal')).toBe(false);
    expect(s.controller.getState().view).toBe('banner');
    const center = (await openPreferences(s)) as HTMLDialogElement & { requestClose(): void };
    await waitFor(() => expect(center.matches(':modal')).toBe(true));
    center.requestClose();
    await waitFor(() => expect(s.controller.getState().view).toBe('banner'));
    await waitFor(() =>
      expect(s.q.getByRole('dialog', { name: en.bannerTitle }).matches(':modal')).toBe(true),
    );
  });

  it('Escape twice on the modal banner (no click between) keeps it shown and modal', async () => {
    const s = setup({ layout: 'modal' });
    await waitFor(() => expect(s.ui.root.activeElement).not.toBeNull());
    await userEvent.keyboard('{Escape}');
    await userEvent.keyboard('{Escape}');
    await new Promise((r) => setTimeout(r, 50));
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
    expect(banner.matches(':modal')).toBe(true);
    expect(s.controller.getState().view).toBe('banner');
  });

  it('a language without catalog nor site texts is spoken in English and marked so; with site texts, marked as itself', async () => {
    for (const [texts, lang, title] of [
      [{}, 'en', en.bannerTitle],
      [{ pt: { bannerTitle: 'Respeitamos a sua privacidade' } }, 'pt', 'Respeitamos a sua privacidade'],
    ] as const) {
      const id = `t${Math.random().toString(36).slice(2, 9)}`;
      const controller = createConsent({
        siteId: id,
        cookie: { name: `c_${id}` },
        categories: CATEGORIES,
        languages: ['pt', 'en'],
        language: 'pt',
        texts,
      });
      await controller.start();
      const detach = attachUi(controller, { loaders: moduleLoaders });
      live.push(() => {
        detach();
        controller.destroy();
      });
      const host = await waitFor(() => {
        const h = document.querySelector('assenso-consent');
        if (!h?.shadowRoot?.querySelector('[role=dialog]')) throw new Error('no banner yet');
        return h;
      });
      expect(host.getAttribute('lang')).toBe(lang);
      expect(within(host.shadowRoot as unknown as HTMLElement).getByRole('dialog').textContent).toContain(
        title,
      );
      detach();
      controller.destroy();
    }
  });

  it('a page element at the maximum z-index, later in the DOM, does not cover the banner (top layer)', async () => {
    const s = setup();
    const cover = document.createElement('div');
    cover.style.cssText = 'position:fixed;inset:0;z-index:2147483647;background:#fff';
    document.body.append(cover);
    live.push(() => cover.remove());
    const accept = s.q.getByRole('button', { name: en.acceptAll });
    const r = accept.getBoundingClientRect();
    expect(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)).toBe(s.ui.root.host);
    expect(s.ui.root.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)).toBe(accept);
    // Put back into a page that replaced its <body>, it is on top again.
    document.body.replaceWith(document.body.cloneNode(false));
    document.body.append(cover);
    await waitFor(() => expect(s.ui.root.host.isConnected).toBe(true));
    const again = accept.getBoundingClientRect();
    expect(document.elementFromPoint(again.x + again.width / 2, again.y + again.height / 2)).toBe(
      s.ui.root.host,
    );
  });

  it('the open preference center, put back into a page that replaced its <body>, has focus again: Escape closes it', async () => {
    const s = setup();
    await s.controller.acceptAll();
    s.controller.open('preferences');
    const dialog = await waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    document.body.replaceWith(document.body.cloneNode(false));
    await waitFor(() => expect(s.ui.root.host.isConnected).toBe(true));
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(s.controller.getState().view).toBe('none'));
  });

  it('offers the receipts kept on the device as a JSON download', async () => {
    const s = setup();
    await s.controller.acceptAll();
    s.controller.open('preferences');
    const download = await waitFor(() => s.q.getByRole('button', { name: en.downloadReceipt }));
    let href = '';
    let name = '';
    s.ui.root.addEventListener(
      'click',
      (e) => {
        const a = e.target as HTMLAnchorElement;
        if (a.localName === 'a' && a.download) {
          href = a.href;
          name = a.download;
          e.preventDefault();
        }
      },
      true,
    );
    await userEvent.click(download);
    await waitFor(() => expect(href).toMatch(/^blob:/));
    expect(name).toBe(`consent-receipt-${s.id}.json`);
    const log = await (await fetch(href)).json();
    expect(log.siteId).toBe(s.id);
    const receipts = [...log.acknowledged.map((x: { receipt: unknown }) => x.receipt), ...log.pending];
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({ method: 'accept-all', siteId: s.id, language: 'en' });
  });

  it('hashes exactly what it showed: the receipt carries the UI notice language and texts', async () => {
    const deps: ConsentDeps = {};
    const { controller } = setup({}, deps, undefined, { language: 'it', messages: itMessages });
    const shown = deps.getNotice!();
    expect(shown.texts.acceptAll).toBe(itMessages.acceptAll);
    // The hashed notice: these texts, and the configured categories in the language shown.
    const notice = noticeOf(controller.config, shown);
    expect(notice.categories[1]?.title).toBe('Statistiche');
    await controller.acceptAll();
    const log = await controller.receipts();
    const receipt = log.pending[0] ?? log.acknowledged[0]?.receipt;
    expect(receipt?.language).toBe('it');
    expect(receipt?.noticeHash).toBe(await noticeHash(notice));
  });

  it('with the banner part only (as the script tag ships it/en), fetches the preference center texts after the banner and hashes them once here', async () => {
    const deps: ConsentDeps = {};
    let release!: () => void;
    const arrived = new Promise<void>((r) => {
      release = r;
    });
    const { q } = setup({}, deps, undefined, {
      messages: BUILT_IN.en!,
      prefsTexts: () => arrived.then(() => moduleLoaders.prefsTexts('en')),
    });
    // The banner needs none of them; the hashed notice holds only what the page has.
    expect(q.getByRole('button', { name: en.acceptAll })).toBeTruthy();
    expect(deps.getNotice?.().texts.prefsTitle).toBeUndefined();
    await userEvent.click(q.getByRole('button', { name: en.customise }));
    await new Promise((r) => setTimeout(r, 50));
    expect(q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull();
    release();
    await waitFor(() => q.getByRole('dialog', { name: en.prefsTitle }));
    expect(deps.getNotice?.().texts).toMatchObject({ acceptAll: en.acceptAll, prefsTitle: en.prefsTitle });
  });

  it('hands the identity API it is given to the preference center ("Your devices", ES module builds)', async () => {
    const identity = vi.fn(() => new Promise<never>(() => {}));
    const s = setup({ endpoint: 'https://consent.test' }, {}, undefined, { identity });
    await openPreferences(s);
    await waitFor(() => expect(identity).toHaveBeenCalled());
  });

  it('without a receipt server there is no devices section: the identity API is not even loaded', async () => {
    const identity = vi.fn(() => new Promise<never>(() => {}));
    const s = setup({}, {}, undefined, { identity });
    await openPreferences(s);
    await new Promise((r) => setTimeout(r, 50));
    expect(identity).not.toHaveBeenCalled();
    expect(s.ui.root.querySelector('assenso-devices')).toBeNull();
  });

  it('the audit reaches into the shadow root (a low-contrast theme token is caught)', async () => {
    const s = setup({ themeTokens: { '--assenso-accent': '#d0d0d0', '--assenso-accent-fg': '#ffffff' } });
    expect((await audit(s)).join()).toContain('color-contrast');
  });

  it('theme tokens are applied through CSSOM only, and hostile ones are inert', () => {
    const s = setup({
      themeTokens: { '--assenso-accent': '#0a5c36', color: 'red', '--assenso-bg': 'red}*{display:none' },
    });
    const button = s.q.getByRole('button', { name: en.acceptAll });
    expect(getComputedStyle(button).backgroundColor).toBe('rgb(10, 92, 54)');
    expect(getComputedStyle(button).display).not.toBe('none');
    expect(s.ui.root.querySelector('style')).toBeNull();
  });

  describe.each<[Theme, Layout]>([
    ['light', 'bar'],
    ['dark', 'box'],
    ['auto', 'modal'],
  ])('axe-core, %s theme, %s layout', (theme, layout) => {
    it('finds no violation in the banner nor in the preference center', async () => {
      const s = setup({ theme, layout });
      expect(await audit(s)).toEqual([]);
      await openPreferences(s);
      for (const summary of s.ui.root.querySelectorAll('summary')) await userEvent.click(summary);
      expect(await audit(s)).toEqual([]);
    });
  });
});
