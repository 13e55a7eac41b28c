// Gated scripts where only a real page load shows the behaviour: the blocking embed and the HTML parser.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, launchChromium, type PageWatch, startDemo, watchPage } from './harness.ts';
import { consent, poll, realErrors } from './widget-helpers.ts';

const config = {
  siteId: 'demo',
  categories: [
    { id: 'necessary', required: true, title: 'Necessary', description: 'Needed.' },
    { id: 'analytics', title: 'Analytics', description: 'Counting.' },
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
