// Gating where only a real page load shows the behaviour: the blocking embed and the HTML parser for scripts; the
// page's CSS and text spacing for an iframe's placeholder.
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

const pages = {
  '/late.js': { body: "log.push('external')", type: 'text/javascript', delayMs: 200 },
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
  '/frame.html': '<!doctype html><title>f</title><p>embedded</p>',
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
let context: BrowserContext;
let watch: PageWatch;

beforeAll(async () => {
  browser = await launchChromium();
  demo = await startDemo({ pages });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});
afterEach(async () => {
  await context?.close();
});

const open = async (path: string, viewport?: { width: number; height: number }) => {
  context = await browser.newContext({ viewport });
  const page = await context.newPage();
  watch = await watchPage(page);
  await page.goto(`${demo.url}${path}`);
  return page;
};
/** The element's box in the viewport (it is shown: never null). */
const rect = async (page: Page, selector: string) => (await page.locator(selector).boundingBox())!;

const log = (page: Page) => page.evaluate(() => (window as { log?: string[] }).log);

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
