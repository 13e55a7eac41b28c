// Accessibility in Chromium against the built widget: reflow at 400% zoom, focus not obscured by a non-modal
// banner, forced colours, focus kept in the preference center after a click outside its controls, long words,
// and the language of parts. Each test failed before its fix (src/ui/prefs.css, styles.css, focus.ts,
// PreferenceCenter.tsx, core/placeholder.ts).
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { banner, demoSuite, HOME_EN, HOME_IT, homeWith, poll, realErrors } from './widget-helpers.ts';

const LONG = 'Personalisierungsdienstleistungsanbieterverwaltungseinstellungen';
/** Forty links before the demo's content, which ends with its footer's "Cookie settings" link. */
const LINKS = `${Array.from({ length: 40 }, (_, i) => `<p><a href="#l${i}" id="l${i}">Page link ${i}</a></p>`).join('')}`;

const layout = (l: string, lang?: string) =>
  homeWith((c) => {
    c.layout = l;
    if (lang) c.language = lang;
  }, HOME_EN);
const pages = {
  '/box-de.html': layout('box', 'de'),
  '/box.html': layout('box'),
  '/modal.html': layout('modal'),
  '/bar-links.html': layout('bar').replace('<main>', `<main>${LINKS}`),
  '/box-links.html': layout('box').replace('<main>', `<main>${LINKS}`),
  '/long.html': homeWith((c) => {
    c.language = 'de';
    for (const cat of c.categories as { title: unknown }[]) cat.title = LONG;
    // A site's own banner title longer than the screen is wide.
    c.texts = { de: { bannerTitle: `${LONG}${LONG}` } };
  }, HOME_EN),
  // The demo's own it/en texts on a page without <html lang>, visited with a German browser.
  '/nolang.html': HOME_IT.replace('<html lang="it">', '<html>'),
  // A Swiss site offering regional tags only.
  '/ch.html': homeWith((c) => {
    c.languages = ['de-CH', 'fr-CH', 'it-CH'];
  }).replace('<html lang="it">', '<html lang="it-CH">'),
};

const visit = demoSuite(pages, (watch) =>
  expect(realErrors(watch).filter((e) => e.startsWith('pageerror'))).toEqual([]),
);
const open = (path: string, width = 1024, height = 760, locale = 'en-US') =>
  visit(path, { viewport: { width, height }, locale });

/** Opens the preference center from the banner's Customise (the second of its three buttons). */
async function customise(page: Page): Promise<Locator> {
  await page.locator('assenso-consent .bn .b').nth(1).click();
  const prefs = page.locator('assenso-consent .pc');
  await prefs.waitFor();
  return prefs;
}

describe('reflow at 400% zoom (320×256, WCAG 1.4.10)', () => {
  it('the preference center body is not squeezed: Tab reaches every control, shown whole in the viewport', async () => {
    const page = await open('/box-de.html', 320, 256);
    const prefs = await customise(page);
    const bd = await prefs.locator('.bd').evaluate((e) => [e.scrollHeight, e.clientHeight]);
    expect(bd[0]).toBeLessThanOrEqual(bd[1]! + 1);
    for (let i = 0; i < 14; i++) {
      await page.keyboard.press('Tab');
      const seen = await page.evaluate(() => {
        const root = document.querySelector('assenso-consent')!.shadowRoot!;
        // Into "Your devices" (a shadow root of its own) when focus is there.
        let a = root.activeElement!;
        while (a.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
        const x = a.getBoundingClientRect();
        const pc = root.querySelector('.pc')!.getBoundingClientRect();
        return { h: Math.round(x.height), top: x.top, bottom: x.bottom, pcTop: pc.top, pcBottom: pc.bottom };
      });
      expect(seen.top, `Tab ${i}`).toBeGreaterThanOrEqual(Math.max(0, seen.pcTop) - 4);
      expect(seen.bottom, `Tab ${i}`).toBeLessThanOrEqual(Math.min(256, seen.pcBottom) + 4);
    }
  });
});

describe('focus not obscured by a non-modal banner (WCAG 2.4.11)', () => {
  it.each([
    ['bar', 1280, 720],
    ['box', 375, 667],
  ] as const)(
    "%s layout at %i px: no Tab-focused page element is hidden by the banner, to the page's last link",
    async (l, w, h) => {
      const page = await open(`/${l}-links.html`, w, h);
      await banner(page, 'We respect your privacy').waitFor();
      const hidden: string[] = [];
      let last = false;
      for (let i = 0; i < 80 && !last; i++) {
        await page.keyboard.press('Tab');
        last = await page.evaluate(() => !!document.activeElement?.matches('[data-assenso-open]'));
        const covered = await page.evaluate(() => {
          const a = document.activeElement as HTMLElement;
          if (a === document.body || a.localName === 'assenso-consent') return null;
          const x = a.getBoundingClientRect();
          const points = [
            [x.left + 2, x.top + 2],
            [x.right - 2, x.bottom - 2],
            [(x.left + x.right) / 2, (x.top + x.bottom) / 2],
          ];
          const under = points.filter(
            ([px, py]) =>
              py! < 0 ||
              py! > innerHeight ||
              document.elementFromPoint(px!, py!)?.localName === 'assenso-consent',
          );
          return under.length ? a.id || a.textContent : null;
        });
        if (covered) hidden.push(covered);
      }
      expect(last).toBe(true);
      expect(hidden).toEqual([]);
      // Gone with the banner: the page's scroll padding and padding are its own again.
      await page.getByRole('button', { name: 'Accept all' }).click();
      await banner(page, 'We respect your privacy').waitFor({ state: 'detached' });
      expect(await page.evaluate(() => document.documentElement.getAttribute('style') ?? '')).toBe('');
    },
  );
});

describe('forced colours (Windows high contrast)', () => {
  it('a switch shows its state: a knob drawn apart from its track, both unlike the other state', async () => {
    const page = await open('/box.html');
    await page.emulateMedia({ forcedColors: 'active', reducedMotion: 'reduce' });
    const prefs = await customise(page);
    const sw = prefs.getByRole('switch', { name: 'Analytics' });
    const look = () =>
      sw.evaluate((e) => [
        getComputedStyle(e).backgroundColor,
        getComputedStyle(e, '::after').backgroundColor,
      ]);
    const off = await look();
    await sw.click();
    await expect.poll(() => sw.getAttribute('aria-checked')).toBe('true');
    const on = await look();
    expect(off[1]).not.toBe(off[0]);
    expect(on[1]).not.toBe(on[0]);
    expect(on).not.toEqual(off);
  });

  it('Accept, Reject, Customise and Save are outlined, all alike', async () => {
    const page = await open('/box.html');
    await page.emulateMedia({ forcedColors: 'active' });
    const border = (l: Locator) =>
      l.evaluateAll((bs) =>
        bs.map((b) => {
          const s = getComputedStyle(b);
          return `${s.borderTopWidth} ${s.borderTopStyle} ${s.borderTopColor}`;
        }),
      );
    const first = await border(page.locator('assenso-consent .bn .b'));
    expect(first).toHaveLength(3);
    expect(new Set(first).size).toBe(1);
    expect(first[0]).toMatch(/^1px solid rgb\(/);
    const prefs = await customise(page);
    expect(new Set([...first, ...(await border(prefs.locator('.b')))])).toEqual(new Set(first));
  });
});

describe('preference center: a click outside its controls keeps focus in it', () => {
  it.each(['box', 'modal'])(
    '%s layout: after a click on the overlay, or on its text, Escape closes it',
    async (l) => {
      const page = await open(`/${l}.html`, 1000, 700);
      await customise(page);
      const prefs = banner(page, 'Cookie preferences');
      await page.mouse.click(20, 20); // the overlay
      await page.keyboard.press('Escape');
      await prefs.waitFor({ state: 'detached' });
      await customise(page);
      await prefs.locator('.bd p').first().click();
      await page.keyboard.press('Escape');
      await prefs.waitFor({ state: 'detached' });
      // Back in the banner, on Customise.
      expect(
        await page.evaluate(
          () => document.querySelector('assenso-consent')!.shadowRoot!.activeElement?.textContent,
        ),
      ).toBe('Customise');
    },
  );
});

describe('modal banner: a click on its text keeps focus in it', () => {
  it('the dialog itself takes focus, and Tab goes on inside it', async () => {
    const page = await open('/modal.html', 1000, 700);
    const b = banner(page, 'We respect your privacy');
    await b.locator('p').first().click();
    const focused = () =>
      page.evaluate(() => {
        const root = document.querySelector('assenso-consent')!.shadowRoot!;
        const el = root.activeElement;
        return el?.getAttribute('role') ?? el?.textContent ?? document.activeElement?.localName;
      });
    expect(await focused()).toBe('dialog');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('×');
  });
});

describe('long German compound words at 320 px', () => {
  it('wrap in the banner too: nothing of it overflows the screen', async () => {
    const page = await open('/long.html', 320, 640);
    const b = page.getByRole('dialog', { name: `${LONG}${LONG}` });
    await b.waitFor();
    const wide = await b.evaluate((el) => [el.scrollWidth, el.clientWidth, el.getBoundingClientRect().right]);
    expect(wide[0]).toBeLessThanOrEqual(wide[1]!);
    expect(wide[2]).toBeLessThanOrEqual(320);
  });

  it('wrap: every switch stays inside the dialog', async () => {
    const page = await open('/long.html', 320, 640);
    const prefs = await customise(page);
    const right = (await prefs.boundingBox())!.x + (await prefs.boundingBox())!.width;
    const switches = await prefs.getByRole('switch').all();
    expect(switches.length).toBeGreaterThanOrEqual(3);
    for (const sw of switches) {
      const box = (await sw.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(right);
      expect(box.x + box.width).toBeLessThanOrEqual(320);
    }
  });
});

describe('at 320 px in Italian, words stay whole', () => {
  it('category titles beside "Sempre attivi", and the cookie tables’ headers and cells', async () => {
    const page = await open('/', 320, 640, 'it-IT');
    const prefs = await customise(page);
    for (const s of await prefs.locator('summary').all()) await s.click();
    const broken = await prefs.evaluate((pc) => {
      const out: string[] = [];
      for (const el of pc.querySelectorAll('h3, h4, th, td:not(:first-child), .mu')) {
        const text = el.firstChild;
        if (!(text instanceof Text)) continue;
        for (const m of text.data.matchAll(/\S+/g)) {
          const r = document.createRange();
          r.setStart(text, m.index);
          r.setEnd(text, m.index + m[0].length);
          // A word split over two lines has a box on each.
          if (r.getClientRects().length > 1) out.push(m[0]);
        }
      }
      return out;
    });
    expect(await prefs.locator('th').count()).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });
});

describe('what the banner says first reaches screen readers (WCAG 4.1.2, 4.1.3)', () => {
  const description = (page: Page) =>
    page.evaluate(() => {
      const root = document.querySelector('assenso-consent')!.shadowRoot!;
      const ids = root.querySelector('[role=dialog]')!.getAttribute('aria-describedby')!.split(' ');
      return ids.map((id) => root.getElementById(id)?.textContent).join(' | ');
    });

  it('the GPC notice is part of the dialog’s description, before its text', async () => {
    const page = await open('/modal.html');
    await page.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
    );
    await page.reload();
    await banner(page, 'We respect your privacy').waitFor();
    expect(await description(page)).toMatch(/^Your browser sent a Global Privacy Control signal.* \| We use/);
  });

  it('a preference center that cannot load is said on the banner and by the status region; the next opening works', async () => {
    const page = await open('/box.html');
    await page.context().route('**/chunks/prefs.js', (r) => r.abort());
    await page.reload();
    await banner(page, 'We respect your privacy').waitFor();
    await page.locator('assenso-consent .bn .b').nth(1).click();
    const failed = 'The settings could not be loaded. Please try again.';
    await page.locator('assenso-consent .bn .nt', { hasText: failed }).waitFor();
    expect(await description(page)).toContain(failed);
    await poll(() => page.locator('assenso-consent [role=status]').textContent()).toBe(failed);
    await page.context().unroute('**/chunks/prefs.js');
    await customise(page);
    await page.getByRole('button', { name: 'Reject all' }).last().click();
    await poll(() => page.locator('assenso-consent [role=status]').textContent()).toBe(
      'Your choices have been saved.',
    );
  });

  it('after a decision, the page’s "Cookie settings" link brings the banner back when the preference center cannot load', async () => {
    const page = await open('/box.html');
    await page.context().route('**/chunks/prefs.js', (r) => r.abort());
    await page.reload();
    await page.getByRole('button', { name: 'Accept all' }).click();
    await poll(() => page.locator('assenso-consent .bn').count()).toBe(0);
    await page.locator('[data-assenso-open]').first().click();
    await page.locator('assenso-consent .bn .nt', { hasText: 'could not be loaded' }).waitFor();
    // Withdrawing stays one action away.
    await page.getByRole('button', { name: 'Reject all' }).click();
    await poll(() =>
      page.evaluate(() =>
        (window as unknown as { assenso: { has(id: string): boolean } }).assenso.has('analytics'),
      ),
    ).toBe(false);
  });
});

describe('language of parts (WCAG 3.1.2)', () => {
  it('category texts the site did not translate into the widget’s language are marked with theirs', async () => {
    const page = await open('/nolang.html', 1024, 760, 'de-DE');
    await banner(page, 'Wir respektieren Ihre Privatsphäre').waitFor();
    await customise(page);
    const langs = await page.evaluate(() => {
      const root = document.querySelector('assenso-consent')!.shadowRoot!;
      return [...root.querySelectorAll('h3, .ct > p')].map(
        (e) =>
          `${e.closest('[lang]')?.getAttribute('lang') ?? root.host.getAttribute('lang')}: ${e.textContent}`,
      );
    });
    expect(languages(langs)).toEqual(['en']);
    expect(langs).toContain('en: Analytics');
  });

  it('an iframe placeholder speaks the widget’s language, and says so inside a page in another', async () => {
    const page = await open('/box-de.html');
    await page.getByRole('button', { name: 'Alle ablehnen' }).click();
    const ph = page.locator('.assenso-placeholder');
    await ph.locator('button').waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await ph.getAttribute('lang')).toBe('de');
    expect(await ph.locator('button').textContent()).toMatch(/erlauben$/);
  });
});

describe('regional language tags', () => {
  it('languages ["de-CH", "fr-CH", "it-CH"] on an it-CH page: Italian texts, marked it-CH', async () => {
    const page = await open('/ch.html');
    await banner(page, 'Rispettiamo la tua privacy').waitFor();
    expect(await page.locator('assenso-consent').getAttribute('lang')).toBe('it-CH');
    await page.getByRole('button', { name: 'Rifiuta tutti' }).click();
    const ph = page.locator('.assenso-placeholder');
    await ph.locator('button').waitFor();
    expect(await ph.locator('button').textContent()).toMatch(/^Consenti /);
    await page.getByRole('link', { name: 'Impostazioni cookie' }).first().click();
    await banner(page, 'Preferenze sui cookie').waitFor();
  });
});

/** The distinct languages in `lang: text` lines. */
function languages(lines: string[]): string[] {
  return [...new Set(lines.map((l) => l.split(':')[0]!))];
}
