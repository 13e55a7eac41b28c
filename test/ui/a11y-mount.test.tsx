// Accessibility fixes of the mounted widget found by a review in Chromium: focus not obscured by a non-modal
// banner, focus kept in the preference center after a click outside a control, language of parts. Each test
// failed before its fix.
import { waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { page, userEvent } from 'vitest/browser';
import { createConsent } from '../../src/core/create.ts';
import { resolveConfig } from '../../src/core/index.ts';
import { fillPlaceholder } from '../../src/core/placeholder.ts';
import type { AssensoConfig, ConsentController, ConsentDeps } from '../../src/core/types.ts';
import { de } from '../../src/ui/i18n/de.ts';
import { en } from '../../src/ui/i18n/en.ts';
import { moduleLoaders } from '../../src/ui/lazy.ts';
import { type MountedUi, type MountOptions, mountUi } from '../../src/ui/mount.tsx';

const CATEGORIES: AssensoConfig['categories'] = [
  { id: 'necessary', required: true, title: 'Necessary', description: 'Needed to run the site.' },
  {
    id: 'analytics',
    title: { en: 'Analytics', de: 'Statistik' },
    description: { en: 'Counting visits.', de: 'Besuche zählen.' },
    services: [
      {
        id: 'stats',
        name: 'Stats',
        purpose: { en: 'Statistics', de: 'Besucherstatistik' },
        cookies: [
          { name: '_st', duration: { en: '1 year', de: '1 Jahr' }, purpose: { en: 'Tells visitors apart' } },
        ],
      },
    ],
  },
  {
    id: 'marketing',
    gpc: true,
    title: { it: 'Marketing e contenuti', en: 'Marketing' },
    description: { it: 'Video e pubblicità.', en: 'Videos and ads.' },
    services: [{ id: 'tube', name: 'Tube', purpose: { fr: 'Vidéos' } }],
  },
];

interface Setup {
  controller: ConsentController;
  ui: MountedUi;
  q: ReturnType<typeof within>;
}
const live: (() => void)[] = [];
afterEach(async () => {
  for (const f of live.splice(0)) f();
  await page.viewport(414, 896);
});

function setup(
  over: Partial<AssensoConfig> = {},
  mount: Partial<MountOptions> = {},
  deps: ConsentDeps = {},
): Setup {
  const id = `t${Math.random().toString(36).slice(2, 9)}`;
  const config: AssensoConfig = { siteId: id, cookie: { name: `c_${id}` }, categories: CATEGORIES, ...over };
  const controller = createConsent(config, deps);
  controller.start();
  const ui = mountUi(controller, {
    language: 'en',
    messages: en,
    preferences: moduleLoaders.preferences,
    ...mount,
  });
  live.push(() => {
    ui.unmount();
    controller.destroy();
  });
  return { controller, ui, q: within(ui.root as unknown as HTMLElement) };
}

/** Forty links on a page taller than the viewport, the last one at its very end (a footer's "Cookie settings"). */
function pageLinks() {
  const main = document.createElement('main');
  for (let i = 0; i < 40; i++) {
    const p = document.createElement('p');
    const a = document.createElement('a');
    a.href = `#l${i}`;
    a.textContent = `Page link ${i}`;
    p.append(a);
    main.append(p);
  }
  document.body.append(main);
  live.push(() => {
    main.remove();
    scrollTo(0, 0);
  });
  return [...main.querySelectorAll('a')];
}

describe('focus not obscured by a non-modal banner (WCAG 2.4.11)', () => {
  it.each([
    ['bar', 1024, 700],
    ['box', 375, 667],
  ] as const)('%s layout at %i px: Tab scrolls every page link clear of the banner', async (layout, w, h) => {
    await page.viewport(w, h);
    const links = pageLinks();
    const s = setup({ layout });
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
    const html = document.documentElement;
    await waitFor(() => expect(html.style.getPropertyValue('scroll-padding-bottom')).not.toBe(''));
    // Past the banner's own buttons (first in the tab order), then through the page.
    for (let i = 0; i < 4; i++) await userEvent.tab();
    for (let i = 0; i < 40; i++) {
      await userEvent.tab();
      const a = document.activeElement as HTMLElement;
      expect(links).toContain(a);
      const box = a.getBoundingClientRect();
      expect(box.bottom, a.textContent!).toBeLessThanOrEqual(banner.getBoundingClientRect().top);
      expect(box.top).toBeGreaterThanOrEqual(0);
    }
  });

  it('the page gets its own inline scroll-padding-bottom and margin-bottom back when the banner goes', async () => {
    pageLinks();
    const html = document.documentElement;
    html.style.setProperty('scroll-padding-bottom', '12px');
    html.style.setProperty('margin-bottom', '5px');
    const s = setup({ layout: 'bar' });
    // After the widget's own clean-up (unmount), which gives the page's values back.
    live.push(() => {
      html.style.removeProperty('scroll-padding-bottom');
      html.style.removeProperty('margin-bottom');
    });
    await waitFor(() => expect(html.style.getPropertyValue('scroll-padding-bottom')).not.toBe('12px'));
    const banner = s.q.getByRole('dialog', { name: en.bannerTitle });
    const height = innerHeight - banner.getBoundingClientRect().top;
    expect(parseFloat(html.style.getPropertyValue('scroll-padding-bottom'))).toBeCloseTo(height, 0);
    // The page can scroll its end clear of the banner: room added below what it had.
    expect(parseFloat(getComputedStyle(html).marginBottom)).toBeCloseTo(height + 5, 0);
    await userEvent.click(s.q.getByRole('button', { name: en.acceptAll }));
    await waitFor(() => expect(s.q.queryByRole('dialog')).toBeNull());
    expect(html.style.getPropertyValue('scroll-padding-bottom')).toBe('12px');
    expect(html.style.getPropertyValue('margin-bottom')).toBe('5px');
  });

  it('a page that fits its window gets no room below it (a scrollbar would appear and shift the page)', async () => {
    const html = document.documentElement;
    expect(html.scrollHeight).toBeLessThanOrEqual(innerHeight);
    setup({ layout: 'bar' });
    await waitFor(() => expect(html.style.getPropertyValue('scroll-padding-bottom')).not.toBe(''));
    expect(html.style.getPropertyValue('padding-bottom')).toBe('');
  });

  it('a modal view sets none (the page behind is not operable)', async () => {
    setup({ layout: 'modal' });
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    expect(document.documentElement.style.getPropertyValue('scroll-padding-bottom')).toBe('');
    expect(document.documentElement.style.getPropertyValue('padding-bottom')).toBe('');
  });
});

describe('preference center: a click outside its controls keeps focus in it', () => {
  async function open() {
    const s = setup();
    await userEvent.click(s.q.getByRole('button', { name: en.customise }));
    const dialog = await waitFor(() => s.q.getByRole('dialog', { name: en.prefsTitle }));
    await waitFor(() => expect(dialog.contains(s.ui.root.activeElement)).toBe(true));
    return { ...s, dialog };
  }

  it('a click on its text, then Escape: it closes', async () => {
    const s = await open();
    await userEvent.click(s.dialog.querySelector('.bd p')!);
    expect(document.activeElement).toBe(s.ui.root.host);
    expect(s.dialog.contains(s.ui.root.activeElement)).toBe(true);
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(s.q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull());
  });

  it('a click on its text, then Tab and Shift+Tab: focus stays in the dialog', async () => {
    const s = await open();
    const text = s.dialog.querySelector('.bd p')!;
    await userEvent.click(text);
    await userEvent.tab();
    expect(s.dialog.contains(s.ui.root.activeElement)).toBe(true);
    expect(s.ui.root.activeElement).not.toBe(s.dialog);
    await userEvent.click(text);
    await userEvent.tab({ shift: true });
    expect(s.dialog.contains(s.ui.root.activeElement)).toBe(true);
    expect(s.ui.root.activeElement).not.toBe(s.dialog);
  });

  it('a click on the backdrop, then Escape: focus stayed where it was, and it closes', async () => {
    const s = await open();
    const before = s.ui.root.activeElement;
    // The backdrop is the dialog's (the click's target), outside its box.
    await userEvent.click(s.dialog, { position: { x: -4, y: -4 } });
    expect(s.ui.root.activeElement).toBe(before);
    await userEvent.keyboard('{Escape}');
    await waitFor(() => expect(s.q.queryByRole('dialog', { name: en.prefsTitle })).toBeNull());
  });
});

describe('language of parts (WCAG 3.1.2)', () => {
  it('category and service texts that fell back to another language than the widget’s are marked with it', async () => {
    const s = setup({ languages: ['de', 'en', 'it'] }, { language: 'de', messages: de });
    await userEvent.click(s.q.getByRole('button', { name: de.customise }));
    const dialog = await waitFor(() => s.q.getByRole('dialog', { name: de.prefsTitle }));
    const lang = (text: string) => within(dialog).getByText(text).getAttribute('lang');
    // Translated: the widget's language, inherited from the host.
    expect(s.ui.root.host.getAttribute('lang')).toBe('de');
    expect(lang('Statistik')).toBeNull();
    expect(lang('Besuche zählen.')).toBeNull();
    expect(lang('Besucherstatistik')).toBeNull();
    // A plain string: the site's one language, taken as the widget's.
    expect(lang('Necessary')).toBeNull();
    // Fallen back: to English, else to the first language given.
    expect(lang('Marketing')).toBe('en');
    expect(lang('Videos and ads.')).toBe('en');
    expect(lang('Vidéos')).toBe('fr');
    // In the cookie table too.
    expect(lang('1 Jahr')).toBeNull();
    expect(lang('Tells visitors apart')).toBe('en');
  });

  it('the GPC sentence lists its categories as "A, B and C" in the widget’s language', () => {
    const three = ['a', 'b', 'c'].map((id) => ({ id, gpc: true, title: id.toUpperCase(), description: id }));
    const categories = [CATEGORIES[0]!, ...three];
    const en3 = setup({ categories }, {}, { gpc: true });
    expect(en3.ui.root.querySelector('.bn .nt')!.textContent).toBe(
      en.gpcHonoured.replace('{categories}', 'A, B and C'),
    );
    for (const f of live.splice(0)) f();
    const de2 = setup(
      { categories: categories.slice(0, 3) },
      { language: 'de', messages: de },
      { gpc: true },
    );
    expect(de2.ui.root.querySelector('.bn .nt')!.textContent).toBe(
      de.gpcHonoured.replace('{categories}', 'A und B'),
    );
  });

  it('a category title that fell back to another language is marked with it inside the banner’s GPC sentence', () => {
    const s = setup({ languages: ['de', 'en', 'it'] }, { language: 'de', messages: de }, { gpc: true });
    const notice = s.ui.root.querySelector('.bn .nt')!;
    expect(notice.textContent).toBe(de.gpcHonoured.replace('{categories}', 'Marketing'));
    const title = [...notice.querySelectorAll('*')].find((e) => e.textContent === 'Marketing');
    expect(title?.getAttribute('lang')).toBe('en');
  });

  const frameIn = (pageLang: string) => {
    const wrap = document.createElement('div');
    wrap.lang = pageLang;
    const box = document.createElement('div');
    const frame = document.createElement('iframe');
    wrap.append(box, frame);
    document.body.append(wrap);
    live.push(() => wrap.remove());
    return { box, frame };
  };
  const cfg = () => resolveConfig({ siteId: 'p', categories: CATEGORIES });

  it('an iframe placeholder is marked with the language of its texts, not the page’s', () => {
    const { box, frame } = frameIn('fr');
    fillPlaceholder(cfg(), { language: 'de' }, vi.fn(), box, frame, 'tube', cfg().categories[2]!.services[0]);
    expect(box.querySelector('button')!.textContent).toBe('Tube erlauben');
    expect(box.closest('[lang]')!.getAttribute('lang')).toBe('de');
    expect(box.querySelector('button')!.closest('[lang]')!.getAttribute('lang')).toBe('de');
  });

  it('a widget language without built-in placeholder texts: the English ones, marked English', () => {
    const { box, frame } = frameIn('fr');
    fillPlaceholder(cfg(), { language: 'pt' }, vi.fn(), box, frame, 'tube', cfg().categories[2]!.services[0]);
    const button = box.querySelector('button')!;
    expect(button.textContent).toBe('Allow Tube');
    expect(button.closest('[lang]')!.getAttribute('lang')).toBe('en');
    expect(box.querySelector('p')!.closest('[lang]')!.getAttribute('lang')).toBe('en');
  });
});
