// The widget where pages get hard: blocked storage, hostile configuration strings, the strict CSP with
// Trusted Types, keyboard-only use, axe-core in light and dark, and a 360 px screenshot.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  axe,
  type Demo,
  formatViolations,
  launchChromium,
  type PageWatch,
  ROOT,
  startDemo,
  watchPage,
} from './harness.ts';
import { banner, consent, HOME_EN, homeWith, realErrors, poll } from './widget-helpers.ts';

const UNREACHABLE = 'http://127.0.0.1:9';
const EVIL = '<img src=x onerror="window.__pwned=1">';
const SHOTS = join(ROOT, 'e2e', 'screenshots');

let browser: Browser;
let demo: Demo;
let strict: Demo;
let context: BrowserContext;
let watch: PageWatch;

const pages = {
  '/hostile.html': homeWith((c) => {
    c.privacyPolicyUrl = 'javascript:window.__pwned=1';
    c.texts = { en: { bannerTitle: EVIL, acceptAll: '<b>Accept</b>' } };
    const categories = c.categories as {
      title: unknown;
      services?: { name: string; privacyUrl?: string }[];
    }[];
    categories[1]!.title = EVIL;
    categories[1]!.services![0]!.name = `<script>window.__pwned=1</script>`;
    categories[1]!.services![0]!.privacyUrl = ' JAVASCRIPT:window.__pwned=1';
  }, HOME_EN),
  '/de.html': homeWith((c) => {
    c.language = 'de';
  }),
  '/dark.html': homeWith((c) => {
    c.theme = 'dark';
    c.layout = 'modal';
  }, HOME_EN),
  // A returning visitor's gated inline script that the parser reaches after start-up (a parser-blocking script
  // before it takes 800 ms): left to the parser, never replaced by a copy (the page's own observer counts).
  '/late.html': HOME_EN.replace(
    '</body>',
    `<script>new MutationObserver((rs) => { for (const r of rs) for (const n of r.removedNodes) if (n.id === 'late') window.__replaced = true; }).observe(document.documentElement, { childList: true, subtree: true });</script>
<script src="/slow-block.js"></script>
<script type="text/plain" data-assenso="analytics" id="late">document.documentElement.dataset.lateRan = document.readyState;</script>
</body>`,
  ),
  // Markup an HTML injection put in the page (a stored comment): gated scripts of the required category, which
  // needs no consent, one with a guessed nonce (the server gives the nonce to those without one). The strict
  // policy would block them as scripts; the widget must not lend them its nonce.
  '/injected.html': HOME_EN.replace(
    '</body>',
    `<div class="comment"><script type="text/plain" data-assenso="necessary" nonce="guess">window.__pwned = 1;</script><script type="text/plain" data-assenso="necessary" nonce="guess" data-src="data:text/javascript,window.__pwned=2"></script></div>
</body>`,
  ),
  // Answered after 800 ms by the server itself: request interception would turn the HTTP cache off, and the
  // returning visitor's widget must come from it, as on a real site.
  '/slow-block.js': { body: 'window.__blocked = true;', type: 'text/javascript', delayMs: 800 },
  '/box.html': homeWith((c) => {
    c.theme = 'light';
    c.layout = 'box';
  }, HOME_EN),
  // Configurations that cannot be had: the widget must run on its tag's attributes, and the page's queue with it.
  '/config-url-invalid.html': bare(
    '<script src="/assenso.js" data-config="http://[shop/consent.json" data-site="shop" async></script>',
  ),
  '/config-fetch-throws.html': bare(
    '<script src="/assenso.js" data-config="/config.json" data-site="shop" async></script>',
    `<script>window.fetch = () => { throw new TypeError('fetch blocked by an extension'); };</script>`,
  ),
  '/config-typo.html': homeWith((c) => {
    c.consentmode = true;
  }, HOME_EN),
  '/config-array.html': bare(
    '<script type="application/json" data-assenso-config>[{"siteId": "shop"}]</script><script src="/assenso.js" data-site="shop" data-layout="bar" async></script>',
  ),
};

/** A page with no configuration of the demo's: `tag` is the widget's, after a queued call of the page's. */
function bare(tag: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>${head}</head><body><h1>Host</h1>
<script>window.assenso = window.assenso || []; assenso.push(() => { window.queuedRan = 1; });</script>${tag}</body></html>`;
}

beforeAll(async () => {
  browser = await launchChromium();
  demo = await startDemo({ server: UNREACHABLE, pages });
  strict = await startDemo({ server: UNREACHABLE, pages, csp: true });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await strict?.close();
});
afterEach(async () => {
  await context?.close();
});

async function open(
  url: string,
  init?: (c: BrowserContext) => Promise<unknown>,
  width = 1024,
): Promise<Page> {
  context = await browser.newContext({ viewport: { width, height: 760 } });
  await init?.(context);
  const page = await context.newPage();
  watch = await watchPage(page);
  await page.goto(url);
  return page;
}

describe('storage blocked', () => {
  it('IndexedDB, localStorage and cookies all throwing: the banner works and nothing reaches the page', async () => {
    const page = await open(`${demo.url}/en/index.html`, (c) =>
      c.addInitScript(() => {
        const deny = () => {
          throw new DOMException('The user denied permission to access the database.', 'SecurityError');
        };
        Object.defineProperty(window, 'indexedDB', { get: deny });
        Object.defineProperty(window, 'localStorage', { get: deny });
        Object.defineProperty(Document.prototype, 'cookie', { get: () => '', set: () => {} });
      }),
    );
    await banner(page, 'We respect your privacy').waitFor();
    await page.getByRole('button', { name: 'Customise' }).click();
    await page.getByRole('switch', { name: 'Analytics' }).click();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect((await consent(page)).categories.analytics).toBe(true);
    await expect(banner(page, 'We respect your privacy').count()).resolves.toBe(0);
    expect(watch.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
  it('IndexedDB hanging for good (an open queued behind a blocked version change): a click still decides', async () => {
    const page = await open(`${demo.url}/en/index.html`, (c) =>
      c.addInitScript(() => {
        // Another connection holds the widget's database and ignores a version change queued behind it: every
        // later open of that database waits for good, as behind an old tab that never closes. (Not from the
        // video's frame too: its hold, first, would leave this page's own waiting.)
        if (window !== window.top) return;
        const r = indexedDB.open('assenso-demo');
        r.onsuccess = () => {
          (window as { __held?: unknown }).__held = r.result;
          indexedDB.open('assenso-demo', r.result.version + 1).onblocked = () => {
            document.documentElement.dataset.idbBlocked = '1';
          };
        };
      }),
    );
    await page.waitForFunction(() => document.documentElement.dataset.idbBlocked === '1');
    await banner(page, 'We respect your privacy').waitFor();
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    await expect(banner(page, 'We respect your privacy').count()).resolves.toBe(0);
    expect((await consent(page)).decision?.method).toBe('accept-all');
    // The decision lasts: the next page has it from the cookie mirror and shows no banner.
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect((await consent(page)).categories.analytics).toBe(true);
    await expect(banner(page, 'We respect your privacy').count()).resolves.toBe(0);
    expect(watch.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });
});

describe('configurations that cannot be had', () => {
  for (const [name, path] of [
    ['a data-config URL that cannot be made', '/config-url-invalid.html'],
    ['a fetch that throws at once', '/config-fetch-throws.html'],
  ] as const)
    it(`${name}: one warning naming data-config, then the widget runs on its attributes (queue included)`, async () => {
      const page = await open(`${demo.url}${path}`);
      await banner(page, 'We respect your privacy').waitFor();
      await page.waitForFunction(() => (window as { queuedRan?: number }).queuedRan === 1);
      expect(watch.warnings.filter((w) => w.includes('could not load data-config='))).toHaveLength(1);
      expect(watch.warnings.filter((w) => w.includes('failed to start'))).toEqual([]);
      expect(watch.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
    });

  it('a configuration that is no object is named as such, not by the keys it lacks; the attributes still apply', async () => {
    const page = await open(`${demo.url}/config-array.html`);
    const b = banner(page, 'We respect your privacy');
    await b.waitFor();
    expect(await b.getAttribute('class')).toBe('bn bar');
    await poll(() => watch.warnings.filter((w) => w.includes('config.(root)')).length).toBe(1);
    expect(watch.warnings.filter((w) => /config\.(siteId|categories)/.test(w))).toEqual([]);
  });
});

describe('a misspelt setting', () => {
  it('is named with the setting it most likely meant (consentmode: Consent Mode would stay off)', async () => {
    await open(`${demo.url}/config-typo.html`);
    await poll(() => watch.warnings.filter((w) => w.includes('config.consentmode')).length).toBe(1);
    expect(watch.warnings.find((w) => w.includes('config.consentmode'))).toContain(
      'is not a setting; did you mean consentMode?',
    );
  });
});

describe('hostile configuration strings', () => {
  it('are shown as text, and javascript: URLs never become links', async () => {
    const page = await open(`${demo.url}/hostile.html`);
    const b = banner(page, EVIL);
    await b.waitFor();
    await page.getByRole('button', { name: '<b>Accept</b>' }).waitFor();
    await page.getByRole('button', { name: 'Customise' }).click();
    const prefs = banner(page, 'Cookie preferences');
    await prefs.getByText(EVIL, { exact: true }).waitFor();
    for (const summary of await prefs.locator('summary').all()) await summary.click();
    await prefs.getByText('<script>window.__pwned=1</script>', { exact: true }).waitFor();
    const shadow = await page.evaluate(() => {
      const root = document.querySelector('assenso-consent')?.shadowRoot;
      return {
        injected: root?.querySelectorAll('img, b, script').length,
        hrefs: [...(root?.querySelectorAll('a') ?? [])].map((a) => a.getAttribute('href')),
      };
    });
    expect(shadow.injected).toBe(0);
    expect(shadow.hrefs.filter((h) => /script:/i.test(h ?? ''))).toEqual([]);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});

describe('strict CSP (nonce + strict-dynamic, Trusted Types, no unsafe-inline styles)', () => {
  afterEach(() => {
    expect(watch.cspViolations).toEqual([]);
    expect(watch.errors.filter((e) => /Content Security Policy|Trusted Type/i.test(e))).toEqual([]);
    expect(realErrors(watch)).toEqual([]);
  });

  it('first visit → preference center (lazy chunk) → save → gated script (nonce) → placeholder → reload', async () => {
    const page = await open(`${strict.url}/en/index.html`);
    await page.getByRole('button', { name: 'Customise' }).click();
    await page.getByRole('switch', { name: 'Analytics' }).click();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    await page.getByRole('button', { name: 'Allow DemoTube' }).click();
    await page.frameLocator('iframe[data-assenso]').locator('#player').waitFor();
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    // The widget styles itself: the adopted stylesheet applies under style-src without 'unsafe-inline'.
    await page.goto(`${strict.url}/en/privacy.html`);
    await page.getByRole('link', { name: 'Cookie settings' }).first().click();
    const reject = page.getByRole('button', { name: 'Reject all' });
    expect(await reject.evaluate((el) => getComputedStyle(el).minHeight)).toBe('44px');
    await reject.click();
    await poll(async () => (await consent(page)).decision?.method).toBe('reject-all');
    expect(strict.cspReports).toEqual([]);
  });

  it("a returning visitor's gated inline script parsed after start-up runs as the parser reaches it", async () => {
    const page = await open(`${strict.url}/late.html`);
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.lateRan !== undefined);
    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.lateRan !== undefined);
    // Run by the parser at its end tag, with the page's nonce, under Trusted Types: while the page still loads,
    // and the element the parser made is the one that ran.
    expect(await page.evaluate(() => document.documentElement.dataset.lateRan)).toBe('loading');
    expect(await page.evaluate(() => (window as { __replaced?: boolean }).__replaced)).toBeUndefined();
    expect(strict.cspReports).toEqual([]);
  });

  it('markup injected into the page does not borrow the nonce: its gated scripts stay inert, said on the console', async () => {
    const page = await open(`${strict.url}/injected.html`);
    await page.getByRole('button', { name: 'Accept all' }).click();
    // The page's own gated script (with the nonce) runs; the injected ones do not.
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    const said = watch.errors.filter((e) => e.includes("lacks the page's nonce"));
    expect(said).toHaveLength(2);
    // (Said, not a failure of the widget's: afterEach's check of console errors lets these two through.)
    watch.errors.splice(0, watch.errors.length, ...watch.errors.filter((e) => !said.includes(e)));
    expect(strict.cspReports).toEqual([]);
  });

  it('a language loaded on demand (German chunk) and the live state page', async () => {
    const page = await open(`${strict.url}/de.html`);
    await banner(page, 'Wir respektieren Ihre Privatsphäre').waitFor();
    await page.getByRole('button', { name: 'Alle akzeptieren' }).click();
    await poll(async () => (await consent(page)).decision?.method).toBe('accept-all');
    await page.goto(`${strict.url}/en/state.html`);
    await poll(async () => JSON.parse((await page.locator('#state').textContent()) ?? '{}').method).toBe(
      'accept-all',
    );
    expect(strict.cspReports).toEqual([]);
  });
});

describe('keyboard only', () => {
  it('Tab reaches the banner first; the preference center is operated and saved without a pointer', async () => {
    const page = await open(`${demo.url}/en/index.html`);
    await banner(page, 'We respect your privacy').waitFor();
    const focused = () =>
      page.evaluate(() => {
        const el = document.querySelector('assenso-consent')?.shadowRoot?.activeElement;
        return el
          ? `${el.getAttribute('role') ?? el.localName}:${el.getAttribute('aria-label') ?? el.textContent}`
          : '';
      });
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('button:Close and continue without accepting');
    const tabTo = async (target: string) => {
      for (let i = 0; i < 40 && (await focused()) !== target; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe(target);
    };
    await tabTo('button:Customise');
    await page.keyboard.press('Enter');
    await banner(page, 'Cookie preferences').waitFor();
    await tabTo('switch:');
    await tabTo('summary:Services (1)');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    // Focus is on a switch: find the Analytics one (the required one is disabled, so not focusable).
    const analytics = page.getByRole('switch', { name: 'Analytics' });
    await analytics.focus();
    await page.keyboard.press('Space');
    expect(await analytics.getAttribute('aria-checked')).toBe('true');
    await tabTo('button:Save my choices');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    // Escape closes the preference center when reopened from the footer link by keyboard.
    await page.getByRole('link', { name: 'Cookie settings' }).focus();
    await page.keyboard.press('Enter');
    await banner(page, 'Cookie preferences').waitFor();
    await page.keyboard.press('Escape');
    await expect(banner(page, 'Cookie preferences').count()).resolves.toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cookie settings');
  });
});

describe('axe-core and looks', () => {
  for (const [name, path, scheme] of [
    ['light (box)', '/box.html', 'light'],
    ['dark (modal)', '/dark.html', 'dark'],
    ['auto, dark system (bar)', '/en/index.html', 'dark'],
    ['auto, light system (bar)', '/en/index.html', 'light'],
  ] as const) {
    it(`${name}: no violation in the banner nor in the preference center`, async () => {
      const page = await open(`${demo.url}${path}`, (c) => c.newPage().then((p) => p.close()));
      await page.emulateMedia({ colorScheme: scheme });
      await banner(page, 'We respect your privacy').waitFor();
      const first = await axe(page, { include: 'assenso-consent' });
      expect(first, formatViolations(first)).toEqual([]);
      await page.getByRole('button', { name: 'Customise' }).click();
      const prefs = banner(page, 'Cookie preferences');
      await prefs.waitFor();
      for (const summary of await prefs.locator('summary').all()) await summary.click();
      const second = await axe(page, { include: 'assenso-consent' });
      expect(second, formatViolations(second)).toEqual([]);
    });
  }

  it('360 px wide: screenshots of the banner and the preference center (e2e/screenshots/)', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const page = await open(`${demo.url}/index.html`, undefined, 360);
    await banner(page, 'Rispettiamo la tua privacy').waitFor();
    const box = await banner(page, 'Rispettiamo la tua privacy').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(360);
    await page.screenshot({ path: join(SHOTS, 'banner-360.png') });
    await page.getByRole('button', { name: 'Personalizza' }).click();
    await banner(page, 'Preferenze sui cookie').waitFor();
    await page.screenshot({ path: join(SHOTS, 'preferences-360.png') });
    const dark = await open(`${demo.url}/dark.html`, undefined, 360);
    await banner(dark, 'We respect your privacy').waitFor();
    await dark.screenshot({ path: join(SHOTS, 'banner-dark-modal-360.png') });
  });
});
