// Gating where only a real page shows the behaviour: the blocking embed and the HTML parser, a framework's
// nodes, document.write, page CSS, the strict CSP; the page's CSS and text spacing for an iframe's placeholder.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, launchChromium, type PageWatch, startDemo, watchPage } from './harness.ts';
import { consent, HOME_EN, poll, realErrors } from './widget-helpers.ts';

const config = {
  siteId: 'demo',
  categories: [
    { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
    { id: 'analytics', title: 'Analytics', description: 'Counting.' },
    { id: 'marketing', title: 'Marketing', description: 'Videos.', services: [{ id: 'vid', name: 'Vid' }] },
  ],
};
/** A gated script as HTML text, for a page script to insert (`<\/script>`: it sits inside a script). */
const gated = (body: string, attrs = '') =>
  JSON.stringify(`<script type="text/plain" data-assenso="analytics"${attrs}>${body}</script>`).replace(
    /<\//g,
    '<\\/',
  );

/** A page with the widget (blocking, in its head): `head` after it, `body` its content. */
function withWidget(body: string, head = '') {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<script>window.log = [];</script>
<script type="application/json" data-assenso-config>${JSON.stringify(config)}</script>
<script src="/assenso.js"></script>${head}</head><body><h1 id="title">t</h1>${body}</body></html>`;
}

const pages = {
  '/late.js': { body: "log.push('external')", type: 'text/javascript', delayMs: 200 },
  '/frame.html': '<!doctype html><title>f</title><p>embedded</p>',
  '/after.js': { body: "log.push('after')", type: 'text/javascript' },
  // A component that renders gated tags and keeps the nodes it rendered, to remove them when it unmounts (React:
  // parent.removeChild(node)), from markup of its own. Under Trusted Types, external ones only: Chromium checks
  // the text of an inline script the page inserts, inert or not. React makes each <script> through innerHTML.
  '/spa.html': withWidget(`<div id="app"></div>
<template id="markup"><script type="text/plain" data-assenso="analytics" data-src="/late.js"></script><script type="text/plain" data-assenso="analytics" data-src="/after.js"></script></template>
<script>
  window.mount = (react) => {
    window.rendered = [...document.getElementById('markup').content.cloneNode(true).children];
    if (react)
      rendered = [...rendered, Object.assign(rendered[0].cloneNode(), { text: "log.push('inline')" })].map((t) => {
        const d = document.createElement('div');
        d.innerHTML = '<script><' + '/script>';
        const s = d.firstChild;
        for (const a of t.attributes) s.setAttribute(a.name, a.value);
        if (t.text) s.removeAttribute('data-src');
        s.text = t.text;
        return s;
      });
    document.getElementById('app').append(...rendered);
  };
  window.unmount = () => rendered.map((s) => document.getElementById('app').removeChild(s) === s);
</script>`),
  // An ad or affiliate tag that writes its markup where it stands.
  '/write.html':
    withWidget(`<script type="text/plain" data-assenso="analytics">document.write('<p id="written">ad</p>'); log.push('wrote');</script>
<p id="after">after</p>`),
  // Responsive-embed CSS: iframes are display:block, which beats [hidden].
  '/embed.html': withWidget(
    '<div class="embed"><iframe id="f" data-assenso="analytics" data-src="/frame.html" title="Video"></iframe></div>',
    '<style>.embed iframe { display: block; width: 560px; height: 315px; border: 0 }</style>',
  ),
  // The blocking embed; while the page loads, its scripts insert gated scripts as HTML at the end of <body>: the
  // parser never runs those ("already started"), and nothing follows them yet when the widget sees them.
  '/html-inserted.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<script type="application/json" data-assenso-config>${JSON.stringify(config)}</script>
<script src="/assenso.js"></script></head><body><h1>t</h1>
<script>window.log = []; var d = document.createElement('div'); d.innerHTML = ${gated("log.push('innerHTML')")}; document.body.appendChild(d);</script>
<p>after the first</p>
<script>document.body.insertAdjacentHTML('beforeend', ${gated("log.push('adjacent')")} + ${gated('', ' data-src="/late.js"')});</script>
<script>log.push('next')</script>
<script type="text/plain" data-assenso="analytics">log.push('parsed')</script>
<p>end</p></body></html>`,
  // The demo page (its stylesheet sizes placeholders too) with a podcast embed as wide as the column, 152 px high.
  '/spacing.html': HOME_EN.replace(
    /<iframe data-assenso="demotube"[^>]*><\/iframe>/,
    '<iframe data-assenso="demotube" data-src="/video.html" title="DemoTube: Our podcast" width="100%" height="152"></iframe><p id="after">After the embed.</p>',
  ),
  // An embed sized by the page’s CSS only (no width or height attributes). Top-aligned: on its line's baseline
  // the descent below it would move the text after it by a few px, whatever held its place.
  '/ratio.html': `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>
<style>.video { width: 640px; aspect-ratio: 16 / 9; border: 0; vertical-align: top }</style>
<script type="application/json" data-assenso-config>${JSON.stringify(config)}</script>
<script src="/assenso.js" async></script></head><body><h1>t</h1>
<iframe class="video" data-assenso="vid" data-src="/frame.html" title="Video"></iframe>
<p id="after">After the embed.</p></body></html>`,
};

let browser: Browser;
let demo: Demo;
let strict: Demo;
let context: BrowserContext;
let watch: PageWatch;

beforeAll(async () => {
  browser = await launchChromium();
  demo = await startDemo({ pages });
  strict = await startDemo({ pages, csp: true });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
  await strict?.close();
});
afterEach(async () => {
  await context?.close();
});

/** A page of the demo (a path), or of the strict CSP one (`strict.url` and a path). */
const open = async (path: string, viewport?: { width: number; height: number }) => {
  context = await browser.newContext({ viewport });
  const page = await context.newPage();
  watch = await watchPage(page);
  await page.goto(path.startsWith('http') ? path : `${demo.url}${path}`);
  return page;
};
/** The element's box in the viewport (it is shown: never null). */
const rect = async (page: Page, selector: string) => (await page.locator(selector).boundingBox())!;

const log = (page: Page) => page.evaluate(() => (window as { log?: string[] }).log);
const acceptAll = (page: Page) =>
  page.evaluate(() => (window as unknown as { assenso: { acceptAll(): unknown } }).assenso.acceptAll());

describe('blocking embed, gated scripts a page script inserts as HTML while the page loads', () => {
  it('runs them for a returning visitor, once, in document order (the parser never would)', async () => {
    context = await browser.newContext();
    const page = await context.newPage();
    watch = await watchPage(page);
    await page.goto(`${demo.url}/html-inserted.html`);
    expect(await log(page)).toEqual(['next']);
    await page.evaluate(() =>
      (window as unknown as { assenso: { acceptAll(): unknown } }).assenso.acceptAll(),
    );
    await poll(() => log(page)).toEqual(['next', 'innerHTML', 'adjacent', 'external', 'parsed']);
    // Returning: the decision applies while the page loads. Each runs as its page script leaves it (before
    // the parser goes on), the external one in order before the parsed one that follows it.
    await page.reload();
    await poll(() => log(page)).toEqual(['innerHTML', 'adjacent', 'next', 'external', 'parsed']);
    expect((await consent(page)).categories.analytics).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(await log(page)).toEqual(['innerHTML', 'adjacent', 'next', 'external', 'parsed']);
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('iframe placeholder', () => {
  it('holds its text and button at 320 px with WCAG 1.4.12 text spacing, off the paragraph below (1.4.10)', async () => {
    const page = await open('/spacing.html', { width: 320, height: 640 });
    await page.locator('.assenso-placeholder button').waitFor();
    // The text spacing bookmarklet of WCAG's Understanding 1.4.12.
    await page.addStyleTag({
      content:
        '* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }',
    });
    const [box, button, after] = await Promise.all(
      ['.assenso-placeholder', '.assenso-placeholder button', '#after'].map((s) => rect(page, s)),
    );
    expect(button!.y + button!.height).toBeLessThanOrEqual(box!.y + box!.height);
    expect(box!.y + box!.height).toBeLessThanOrEqual(after!.y);
  });

  it('is the size the page’s CSS gives its iframe (aspect-ratio, no attributes): nothing moves on Allow', async () => {
    const page = await open('/ratio.html');
    const button = page.locator('.assenso-placeholder button');
    await button.waitFor();
    expect(await rect(page, '.assenso-placeholder')).toMatchObject({ width: 640, height: 360 });
    const after = await rect(page, '#after');
    await button.click();
    await poll(() => page.locator('iframe.video').getAttribute('src')).toBe('/frame.html');
    expect(await rect(page, 'iframe.video')).toMatchObject({ width: 640, height: 360 });
    expect(await rect(page, '#after')).toEqual(after);
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('gated scripts a framework renders and later removes', () => {
  const mountAcceptUnmount = async (page: Page, react: boolean) => {
    await page.evaluate((r) => (window as unknown as { mount(r: boolean): void }).mount(r), react);
    await acceptAll(page);
    await poll(() => log(page)).toEqual(['external', 'after', ...(react ? ['inline'] : [])]);
    // Its nodes are still in the page: unmounting does not throw (NotFoundError, before: the app crashed).
    const rendered = () => (window as unknown as { rendered: Node[] }).rendered.map((s) => s.isConnected);
    expect((await page.evaluate(rendered)).every(Boolean)).toBe(true);
    expect(
      await page.evaluate(() => (window as unknown as { unmount(): unknown[] }).unmount()),
    ).not.toContain(false);
    expect(await page.evaluate(rendered)).not.toContain(true);
  };

  it("under the strict CSP with Trusted Types: the framework's own nodes run", async () => {
    const page = await open(`${strict.url}/spa.html`);
    await mountAcceptUnmount(page, false);
    expect(await page.evaluate(() => document.querySelectorAll('script[data-assenso]').length)).toBe(0);
    expect(watch.cspViolations).toEqual([]);
    expect(strict.cspReports).toEqual([]);
    expect(realErrors(watch)).toEqual([]);
  });

  it('made through innerHTML as React does ("already started", never to run): live copies run beside them', async () => {
    const page = await open('/spa.html');
    await mountAcceptUnmount(page, true);
    expect(realErrors(watch)).toEqual([]);
  });
});

describe('a gated inline script that calls document.write', () => {
  it('is ignored, with an error, after the page has loaded (Accept all), and writes in place for a returning visitor', async () => {
    const page = await open('/write.html');
    await acceptAll(page);
    await poll(() => log(page)).toEqual(['wrote']);
    // The page is still there (document.write after load would have replaced it), and has its own write again.
    expect(
      await page.evaluate(() => ['title', 'after', 'written'].map((id) => !!document.getElementById(id))),
    ).toEqual([true, true, false]);
    expect(
      await page.evaluate(() => Object.hasOwn(document, 'write') || Object.hasOwn(document, 'writeln')),
    ).toBe(false);
    expect(watch.errors.filter((e) => e.includes('document.write after load ignored'))).toHaveLength(1);
    await page.reload();
    await poll(() => log(page)).toEqual(['wrote']);
    expect(await page.evaluate(() => document.getElementById('written')?.nextElementSibling?.id)).toBe(
      'after',
    );
    expect(watch.errors.filter((e) => e.includes('document.write'))).toHaveLength(1);
  });
});

describe('a held iframe under page CSS that sets its display', () => {
  it('stays out of sight (strict CSP: set through the CSSOM), and shows at its size once allowed', async () => {
    const page = await open(`${strict.url}/embed.html`);
    const box = () =>
      page.evaluate(() => {
        const r = document.getElementById('f')!.getBoundingClientRect();
        return [r.width, r.height];
      });
    await page.locator('.assenso-placeholder button').waitFor();
    expect(await box()).toEqual([0, 0]);
    await acceptAll(page);
    await poll(box).toEqual([560, 315]);
    expect(watch.cspViolations).toEqual([]);
    expect(strict.cspReports).toEqual([]);
  });
});
