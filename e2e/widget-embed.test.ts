// The script-tag entry: where the configuration comes from, what a bad one does, window.assenso, the
// pre-load queue, data-assenso-open, and the events the page can listen to.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, launchChromium, type PageWatch, ROOT, startDemo, watchPage } from './harness.ts';
import { banner, consent, realErrors, poll } from './widget-helpers.ts';

const UNREACHABLE = 'http://127.0.0.1:9';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const shell = (head: string, body = '') =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>${head}</head><body><main><h1>t</h1>${body}</main></body></html>`;

const pages = {
  '/attributes.html': shell(
    '<script src="/assenso.js" data-config="/config.json" data-language="de" data-layout="modal" data-theme="dark" async></script>',
  ),
  // The tag as a module, on a page in a sub-folder: no document.currentScript there.
  '/sub/module.html': shell(
    `<script type="module" src="/${VERSION}/assenso.js" data-config="/config.json" data-language="de" data-layout="modal"></script>`,
  ),
  // The same with a query string, as WordPress's wp_enqueue_script_module() writes it.
  '/sub/module-ver.html': shell(
    `<script type="module" src="/${VERSION}/assenso.js?ver=6.5" data-config="/config.json" data-language="de" data-layout="modal"></script>`,
  ),
  '/broken-json.html': shell(
    '<script type="application/json" data-assenso-config>{ "siteId": "demo", </script><script src="/assenso.js"></script>',
    '<p id="after">page script ran</p><script>document.getElementById("after").dataset.ok = "1"</script>',
  ),
  '/bad-key.html': shell(
    `<script type="application/json" data-assenso-config>${JSON.stringify({
      siteId: 'demo',
      layout: 'sideways',
      categories: [
        { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
        { id: 'analytics', title: 'Analytics', description: 'Counting.' },
      ],
    })}</script><script src="/assenso.js"></script>`,
  ),
  // The documented async tag, then Google's inline snippet and GTM's: they queue their commands first.
  '/google-after.html': shell(
    `<script src="/assenso.js" data-config="/config.json" async></script><script>window.dataLayer = window.dataLayer || [];
function gtag(){dataLayer.push(arguments)} gtag('js', new Date()); gtag('config', 'G-TEST');
dataLayer.push({ 'gtm.start': Date.now(), event: 'gtm.js' });</script>`,
  ),
  '/queue.html': shell(
    `<script src="/queue.js"></script><script src="/assenso.js" data-config="/config.json" async></script>`,
    '<div id="later"></div>',
  ),
  // The page's script creates the queue after assenso.js has run but before its configuration has arrived (the
  // test holds /slow-config.json back): calls queued then must be replayed too.
  '/late-queue.html': shell(
    '<script src="/assenso.js" data-config="/slow-config.json" async></script>',
    `<script>setTimeout(() => {
  window.startedFirst = typeof window.assenso;
  window.assenso = window.assenso || [];
  window.assenso.push((api) => { window.replayed = typeof api.get; });
}, 300);</script>`,
  ),
  // The page reads the state the moment window.assenso appears, in the widget's own first task (a setter): the
  // decision must already be there (start-up runs in the next task, or as soon as the page asks).
  '/read-at-once.html': shell(
    `<script>Object.defineProperty(window, 'assenso', { configurable: true, get() { return this._assenso; }, set(api) {
  this._assenso = api;
  window.atOnce = {
    defaultSent: (window.dataLayer || []).some((e) => e[0] === 'consent' && e[1] === 'default'),
    has: api.has('analytics'),
    decided: api.get().decision !== null,
  };
} });</script><script type="application/json" data-assenso-config>${JSON.stringify({
      siteId: 'demo',
      consentMode: true,
      categories: [
        { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
        { id: 'analytics', title: 'Analytics', description: 'Counting.' },
      ],
    })}</script><script src="/assenso.js" async></script>`,
  ),
  // The blocking embed (no async), from the versioned path the browser caches (a cached blocking script is run
  // by the parser at once, which then goes on parsing in the same task): start-up runs in the script's own
  // task, before the parser goes on. A returning visitor's gated script runs as it is parsed, before the page's
  // next script; a first visitor's banner shows while a slow script at the end of the body still holds the
  // parser (the server answers it after 1.5 s; no request interception, which would turn the cache off).
  '/slow-block.js': { body: 'window.unblocked = true;', type: 'text/javascript', delayMs: 1500 },
  '/blocking.html': shell(
    `<script type="application/json" data-assenso-config>${JSON.stringify({
      siteId: 'demo',
      consentMode: true,
      categories: [
        { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
        { id: 'analytics', title: 'Analytics', description: 'Counting.' },
      ],
    })}</script><script src="/${VERSION}/assenso.js"></script>
<script>window.order = []; window.updated = dataLayer.some((e) => e[0] === 'consent' && e[1] === 'update');</script>`,
    `<script type="text/plain" data-assenso="analytics">order.push('gated:' + document.readyState)</script>
<script>order.push('next')</script><script src="/slow-block.js"></script>`,
  ),
  // The tag twice (hard-coded, and again from a tag manager): the second copy runs while the first one's
  // configuration is still on its way (the server answers it after 800 ms), and must do nothing but say so.
  '/twice-config.json': {
    body: JSON.stringify({
      ...JSON.parse(readFileSync(join(ROOT, 'demo', 'config.json'), 'utf8')),
      endpoint: UNREACHABLE,
    }),
    type: 'application/json',
    delayMs: 800,
  },
  '/twice.html': shell(
    `<script src="/assenso.js" data-config="/twice-config.json"></script><script src="/${VERSION}/assenso.js" data-config="/config.json" async></script>`,
  ),
  '/swap.html': shell(
    `<script type="application/json" data-assenso-config>${JSON.stringify({
      siteId: 'demo',
      categories: [
        { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
        { id: 'analytics', title: 'Analytics', description: 'Counting.' },
      ],
    })}</script><script src="/assenso.js" async></script>`,
  ),
  '/module.html': shell(
    `<script type="module">
import { attachUi, createConsent, createWindowApi, moduleLoaders } from '/assenso.mjs';
const consent = createConsent({ siteId: 'esm', categories: [
  { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
  { id: 'analytics', title: 'Analytics', description: 'Counting.' },
] });
consent.start();
attachUi(consent, { loaders: moduleLoaders, language: 'fr' });
window.esm = createWindowApi(consent);
</script>`,
  ),
  '/queue.js': {
    type: 'text/javascript',
    body: `window.assenso = window.assenso || [];
window.seen = [];
window.dataLayer = [];
assenso.push(['on', 'change', (e) => window.seen.push('on:' + e.decision.method)]);
assenso.push(['on', 'ready', () => window.seen.push('ready')]);
assenso.push((api) => window.seen.push('fn:' + typeof api.get));
window.addEventListener('assenso:change', (e) => window.seen.push('event:' + e.detail.granted.categories.analytics));`,
  },
};

let browser: Browser;
let demo: Demo;
let context: BrowserContext;
let watch: PageWatch;

beforeAll(async () => {
  browser = await launchChromium();
  demo = await startDemo({ server: UNREACHABLE, pages });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});
afterEach(async () => {
  await context?.close();
});

async function open(path: string): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  watch = await watchPage(page);
  await page.goto(`${demo.url}${path}`);
  return page;
}

describe('configuration', () => {
  it('data attributes of the script tag override the config URL (language, layout, theme)', async () => {
    const page = await open('/attributes.html');
    const b = banner(page, 'Wir respektieren Ihre Privatsphäre');
    await b.waitFor();
    expect(await b.getAttribute('aria-modal')).toBe('true');
    expect(
      await page.evaluate(
        () => document.querySelector('assenso-consent')?.shadowRoot?.firstElementChild?.className,
      ),
    ).toBe('r dark');
    expect(realErrors(watch)).toEqual([]);
  });

  it.each(['/sub/module.html', '/sub/module-ver.html'])(
    'a type="module" tag still reads its attributes and loads its chunks from its own folder (%s)',
    async (path) => {
      const page = await open(path);
      const b = banner(page, 'Wir respektieren Ihre Privatsphäre');
      await b.waitFor();
      expect(await b.getAttribute('aria-modal')).toBe('true');
      await page.getByRole('button', { name: 'Anpassen' }).click();
      await banner(page, 'Cookie-Einstellungen').waitFor();
      // Every chunk and language file came from the demo: no request to it failed. (The receipt server is
      // unreachable on purpose; the preference center may ask it for this device's links.)
      const chunks = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .map((r) => new URL(r.name).pathname)
          .filter((p) => p.includes('/chunks/')),
      );
      expect(chunks.length).toBeGreaterThan(0);
      expect(chunks.filter((p) => !p.startsWith(`/${VERSION}/chunks/`))).toEqual([]);
      expect(watch.httpErrors.filter((e) => e.includes(demo.url))).toEqual([]);
    },
  );

  it('invalid inline JSON: one warning naming it, the page keeps working', async () => {
    const page = await open('/broken-json.html');
    await page.waitForFunction(() => (document.getElementById('after') as HTMLElement).dataset.ok === '1');
    await poll(() => watch.warnings.filter((w) => w.includes('data-assenso-config')).length).toBe(1);
    expect(watch.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  it('a bad key: one warning naming the key and the fix, the default is used', async () => {
    const page = await open('/bad-key.html');
    const b = banner(page, 'We respect your privacy');
    await b.waitFor();
    // Worded by the delivery chunk, which may arrive after the banner on a loaded machine: waited for.
    const layout = () => watch.warnings.filter((w) => w.includes('config.layout'));
    await poll(() => layout().length).toBeGreaterThan(0);
    expect(layout()).toHaveLength(1);
    expect(await b.getAttribute('class')).toBe('bn box');
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('start-up', () => {
  it('Consent Mode default is sent at once; a page script reading the state right after the script gets the decision', async () => {
    const page = await open('/read-at-once.html');
    expect(await page.evaluate(() => (window as { atOnce?: unknown }).atOnce)).toEqual({
      defaultSent: true,
      has: false,
      decided: false,
    });
    await banner(page, 'We respect your privacy').waitFor();
    await page.evaluate(() =>
      (window as unknown as { assenso: { acceptAll(): Promise<unknown> } }).assenso.acceptAll(),
    );
    await page.reload();
    expect(await page.evaluate(() => (window as { atOnce?: unknown }).atOnce)).toEqual({
      defaultSent: true,
      has: true,
      decided: true,
    });
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('Google Consent Mode', () => {
  it("the async tag after Google's snippet: its default is the first thing Google's tag will read", async () => {
    const page = await open('/google-after.html');
    await banner(page, 'We respect your privacy').waitFor();
    const order = await page.evaluate(() =>
      (window as unknown as { dataLayer: ArrayLike<unknown>[] }).dataLayer.map((e) =>
        'event' in e ? String(e.event) : `${e[0]} ${typeof e[1] === 'string' ? e[1] : ''}`.trim(),
      ),
    );
    expect(order).toEqual(['consent default', 'js', 'config G-TEST', 'gtm.js']);
    expect(realErrors(watch)).toEqual([]);
    await page.getByRole('button', { name: 'Accept all' }).click();
    await poll(() =>
      page.evaluate(() => (window as unknown as { dataLayer: unknown[][] }).dataLayer.at(-1)),
    ).toMatchObject({ event: 'assenso_consent' });
  });
});

describe('the tag twice on one page', () => {
  it('the second copy is ignored with one warning: one banner, one Consent Mode default, one receipt', async () => {
    const page = await open('/twice.html');
    await banner(page, 'We respect your privacy').waitFor();
    await poll(() => watch.warnings.filter((w) => w.includes('second assenso.js')).length).toBe(1);
    expect(watch.warnings.find((w) => w.includes('second assenso.js'))).toContain(`/${VERSION}/assenso.js`);
    const receipts = await page.evaluate(async () => {
      type Api = {
        acceptAll(): Promise<unknown>;
        receipts(): Promise<{ pending: unknown[]; acknowledged: unknown[] } | null>;
      };
      const api = (window as unknown as { assenso: Api }).assenso;
      await api.acceptAll();
      const log = await api.receipts();
      return (log?.pending.length ?? 0) + (log?.acknowledged.length ?? 0);
    });
    expect(receipts).toBe(1);
    expect(
      await page.evaluate(() => ({
        hosts: document.querySelectorAll('assenso-consent').length,
        defaults: ((window as unknown as { dataLayer: unknown[][] }).dataLayer ?? []).filter(
          (e) => e[0] === 'consent' && e[1] === 'default',
        ).length,
      })),
    ).toEqual({ hosts: 1, defaults: 1 });
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('blocking embed (a script tag without async)', () => {
  it("the banner shows while the parser is still held; a returning visitor's gated script runs as parsed", async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    watch = await watchPage(page);
    await page.goto(`${demo.url}/blocking.html`, { waitUntil: 'commit' });
    // Shown with <body>, not at DOMContentLoaded (which waits for the slow script).
    await banner(page, 'We respect your privacy').waitFor();
    expect(await page.evaluate(() => [document.readyState, 'unblocked' in window])).toEqual([
      'loading',
      false,
    ]);
    await page.getByRole('button', { name: 'Accept all' }).click();
    await poll(async () => (await consent(page)).categories.analytics).toBe(true);
    await page.reload({ waitUntil: 'load' });
    expect(
      await page.evaluate(() =>
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).some(
          (e) => e.name.endsWith('/assenso.js') && e.transferSize === 0,
        ),
      ),
    ).toBe(true); // from the HTTP cache
    // The decision applied before the page's next script (a tag placed after the snippet reads Consent Mode's
    // update), and the gated script run in place, before the script after it: when an ungated one would run.
    expect(await page.evaluate(() => (window as { updated?: boolean }).updated)).toBe(true);
    expect(await page.evaluate(() => (window as { order?: string[] }).order)).toEqual([
      'gated:loading',
      'next',
    ]);
    // The same where the browser has no scheduler.postTask (Safari): start-up does not wait for a timer.
    await page.addInitScript(() => Object.defineProperty(window, 'scheduler', { value: undefined }));
    await page.reload({ waitUntil: 'load' });
    expect(
      await page.evaluate(() => [(window as { updated?: boolean }).updated, 'scheduler' in window]),
    ).toEqual([true, true]);
    expect(await page.evaluate(() => (window as { order?: string[] }).order)).toEqual([
      'gated:loading',
      'next',
    ]);
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('the ES module entry (dist/assenso.mjs)', () => {
  it('works from a module script: banner, lazily split French catalog and preference center, decision', async () => {
    const page = await open('/module.html');
    await banner(page, 'Nous respectons votre vie privée').waitFor();
    await page.getByRole('button', { name: 'Personnaliser' }).click();
    await page.getByRole('switch', { name: 'Analytics' }).click();
    await page.getByRole('button', { name: 'Enregistrer mes choix' }).click();
    await poll(() =>
      page.evaluate(() => (window as unknown as { esm: { has(id: string): boolean } }).esm.has('analytics')),
    ).toBe(true);
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('window.assenso', () => {
  it('get, has, set, on/unsubscribe, acceptAll, rejectAll, receipts, reset, open', async () => {
    const page = await open('/en/index.html');
    const result = await page.evaluate(async () => {
      type Api = {
        get(): { pending: boolean; categories: Record<string, boolean> };
        has(id: string): boolean;
        set(c: unknown): Promise<{ method: string } | null>;
        on(t: string, fn: (e: unknown) => void): () => void;
        acceptAll(): Promise<{ method: string }>;
        rejectAll(): Promise<{ method: string }>;
        receipts(): Promise<{ pending: unknown[]; acknowledged: unknown[] }>;
        reset(): Promise<unknown>;
        open(): void;
      };
      const api = (window as unknown as { assenso: Api }).assenso;
      const log: unknown[] = [];
      log.push(api.get().pending, api.has('analytics'));
      const changes: string[] = [];
      const off = api.on('change', () => changes.push('change'));
      log.push(
        (await api.set({ categories: { analytics: true } }))?.method,
        api.has('analytics'),
        api.has('marketing'),
      );
      log.push(api.has('demo-analytics'));
      off();
      log.push((await api.rejectAll()).method, api.has('analytics'), changes.length);
      log.push((await api.acceptAll()).method, api.has('demotube'));
      // Nothing throws into the page, whatever it passes (null sets nothing: no decision, one warning).
      log.push((await api.set(null as never))?.method ?? 'none');
      const receipts = await api.receipts();
      log.push(receipts.pending.length + receipts.acknowledged.length);
      await api.reset();
      log.push(api.get().pending);
      return log;
    });
    expect(result).toEqual([
      true,
      false,
      'api',
      true,
      false,
      true,
      'api',
      false,
      1,
      'api',
      true,
      'none',
      3,
      true,
    ]);
    await banner(page, 'We respect your privacy').waitFor();
    await page.evaluate(() => (window as unknown as { assenso: { open(): void } }).assenso.open());
    await banner(page, 'Cookie preferences').waitFor();
    expect(watch.errors.filter((e) => e.startsWith('pageerror'))).toEqual([]);
  });

  it('replays calls queued while the configuration URL is still loading (the queue made after the script ran)', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    watch = await watchPage(page);
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/slow-config.json', async (route) => {
      await held;
      await route.fulfill({ path: 'demo/config.json', contentType: 'application/json' });
    });
    await page.goto(`${demo.url}/late-queue.html`);
    await page.waitForFunction(
      () => (window as unknown as { startedFirst?: string }).startedFirst !== undefined,
    );
    // assenso.js ran first (no window.assenso yet: it waits for its configuration), then the page queued.
    expect(await page.evaluate(() => (window as unknown as { startedFirst: string }).startedFirst)).toBe(
      'undefined',
    );
    release();
    await page.waitForFunction(() => (window as unknown as { replayed?: string }).replayed === 'function');
    await page.getByRole('button', { name: 'Accept all' }).waitFor();
  });

  it('a page that swaps its whole <body> (Turbo, htmx): the banner stays, gated scripts in the new body run, its "Cookie settings" link works', async () => {
    const page = await open('/swap.html');
    await banner(page, 'We respect your privacy').waitFor();
    await page.evaluate(() => {
      const next = document.createElement('body');
      next.innerHTML = `<main><h1>Next page</h1><a href="#settings" data-assenso-open>Cookie settings</a>
<script type="text/plain" data-assenso="analytics">window.swapRan = true</script></main>`;
      document.body.replaceWith(next);
    });
    // Still there, first in the new body, with no decision made.
    await banner(page, 'We respect your privacy').waitFor();
    expect(await page.evaluate(() => document.body.firstElementChild?.localName)).toBe('assenso-consent');
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => (window as { swapRan?: boolean }).swapRan === true);
    // Emptied (htmx's innerHTML swap of the body) while nothing is shown, then opened from the new content.
    await page.evaluate(() => {
      document.body.innerHTML =
        '<main><h1>Third page</h1><a href="#settings" data-assenso-open>Cookie settings</a></main>';
    });
    await page.getByRole('link', { name: 'Cookie settings' }).click();
    await banner(page, 'Cookie preferences').waitFor();
    expect(await page.evaluate(() => document.body.firstElementChild?.localName)).toBe('assenso-consent');
    expect(realErrors(watch)).toEqual([]);
  });

  it('replays calls queued before load; fires assenso:change and a dataLayer event; data-assenso-open on later elements', async () => {
    const page = await open('/queue.html');
    await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.includes('fn:function'));
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.length >= 3);
    expect(await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual([
      'ready',
      'fn:function',
      'on:accept-all',
      'event:true',
    ]);
    const pushed = await page.evaluate(
      () => (window as unknown as { dataLayer: { event?: string }[] }).dataLayer,
    );
    expect(pushed.some((e) => e.event === 'assenso_consent')).toBe(true);
    expect((await consent(page)).decision?.method).toBe('accept-all');

    await page.evaluate(() => {
      const a = document.createElement('a');
      a.href = '#settings';
      a.textContent = 'Cookie settings (added later)';
      a.setAttribute('data-assenso-open', '');
      document.getElementById('later')?.append(a);
    });
    await page.getByRole('link', { name: 'Cookie settings (added later)' }).click();
    await banner(page, 'Cookie preferences').waitFor();
    expect(new URL(page.url()).hash).toBe('');
    // A returning visitor: the queued listeners hear start-up itself (the stored decision applied, then ready).
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { seen: string[] }).seen.includes('fn:function'));
    expect(await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).toEqual([
      'on:accept-all',
      'event:true',
      'ready',
      'fn:function',
    ]);
    expect(realErrors(watch)).toEqual([]);
  });
});
