// First-party mode (docs/server.md): the receipt server, reached under the site's own origin through a reverse
// proxy, sets the consent cookie itself with `Set-Cookie`, because Safari deletes what scripts store (IndexedDB,
// localStorage, script-written cookies) after 7 days without a visit, but keeps what the site's server sets.
// Real Chromium, the built widget on the demo shop, the real `assenso serve` (PGlite) behind a small proxy; the
// purge is simulated by deleting the widget's IndexedDB and localStorage, leaving only the server's cookie.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Demo,
  freePort,
  launchChromium,
  type PageWatch,
  type ReceiptServer,
  startDemo,
  startReceiptServer,
  watchPage,
} from './harness.ts';
import { banner, consent, HOME_EN, homeWith, realErrors } from './widget-helpers.ts';

let browser: Browser;
let server: ReceiptServer;
let demo: Demo;
let proxy: Server;
let origin: string;
let context: BrowserContext | undefined;
let watch: PageWatch;

/** The site's reverse proxy: `/v1/` to the receipt server, everything else to the demo, Host kept. */
function reverseProxy(port: number): Promise<Server> {
  const p = createServer((req, res) => {
    const target = new URL(req.url?.startsWith('/v1/') ? server.url : demo.url);
    const forward = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  return new Promise((resolve) => p.listen(port, '127.0.0.1', () => resolve(p)));
}

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  [browser, server] = await Promise.all([
    launchChromium(),
    startReceiptServer({
      driver: 'pglite',
      sites: [{ id: 'demo', origins: [origin], firstPartyCookie: { name: 'assenso' } }],
    }),
  ]);
  demo = await startDemo({
    server: origin,
    pages: {
      '/en/rev2.html': homeWith((c) => {
        c.revision = '2027-01';
      }, HOME_EN),
    },
  });
  proxy = await reverseProxy(port);
  expect((proxy.address() as AddressInfo).port).toBe(port);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => proxy?.close(resolve));
  await demo?.close();
  await server?.stop();
});

afterEach(async () => {
  expect(realErrors(watch)).toEqual([]);
  await context?.close();
});

async function open(path: string): Promise<Page> {
  context = await browser.newContext();
  const page = await context.newPage();
  watch = await watchPage(page);
  await page.goto(`${origin}${path}`);
  return page;
}

/** The server's answer to the next receipts POST, and the consent cookie it sets (its parsed value). */
function nextReceiptsAnswer(page: Page) {
  return page
    .waitForResponse((r) => r.url() === `${origin}/v1/receipts` && r.request().method() === 'POST')
    .then(async (r: Response) => {
      expect(r.status()).toBe(200);
      const set = (await r.headerValue('set-cookie')) ?? '';
      expect(set).toMatch(/^assenso=/);
      return new URLSearchParams(set.split('; ')[0]?.slice('assenso='.length));
    });
}

/**
 * Waits until the page's outbox has settled what it sent (nothing pending). Leaving before then sends the
 * pending receipts again from pagehide; such a resend's answer once set the older decision's cookie after the
 * next page's newer one (CI, under load). The server sets no cookie for a resend now (test/server/consent.test.ts);
 * waiting keeps this test about what it tests.
 */
async function settled(page: Page) {
  await expect
    .poll(() =>
      page.evaluate(async () => {
        const log = await (
          window as unknown as { assenso: { receipts(): Promise<{ pending: unknown[] }> } }
        ).assenso.receipts();
        return log.pending.length;
      }),
    )
    .toBe(0);
}

/** What Safari's 7-day purge leaves: only the cookie the server set (the widget's own copy was replaced by it). */
async function purgeScriptStorage(page: Page) {
  // On a page of the site without the widget, so that no open connection blocks the deletion.
  await page.goto(`${origin}/video.html`);
  await page.evaluate(async () => {
    localStorage.clear();
    for (const db of await indexedDB.databases())
      await new Promise((done, fail) => {
        const r = indexedDB.deleteDatabase(db.name as string);
        r.onsuccess = done;
        r.onerror = fail;
        r.onblocked = fail;
      });
  });
  expect(await page.evaluate(() => indexedDB.databases())).toEqual([]);
}

describe('first-party mode: the receipt server sets the consent cookie', () => {
  it('a decision survives the loss of everything the script stored', async () => {
    const page = await open('/en/index.html');
    const answer = nextReceiptsAnswer(page);
    await page.getByRole('button', { name: 'Accept all' }).click();
    const value = await answer;
    await settled(page);
    const { decision } = await consent(page);
    expect(value.get('id')).toBe((decision as unknown as { receiptId: string }).receiptId);

    await purgeScriptStorage(page);
    await page.goto(`${origin}/en/index.html`);
    const after = await consent(page);
    expect(after.categories).toEqual({ necessary: true, analytics: true, marketing: true });
    expect(after.decision?.method).toBe('accept-all');
    expect(await page.locator('assenso-consent').count()).toBe(0);
  }, 60_000);

  it('a decision made while categories are asked again keeps their earlier answers to prefill the banner', async () => {
    const page = await open('/en/index.html');
    await page.getByRole('button', { name: 'Customise' }).click();
    await page.getByRole('switch', { name: 'Analytics' }).click();
    const first = nextReceiptsAnswer(page);
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await first;
    await settled(page);

    // A new policy revision asks every category again; the visitor answers only the video's "Allow".
    await page.goto(`${origin}/en/rev2.html`);
    await banner(page, 'We respect your privacy').waitFor();
    const answer = nextReceiptsAnswer(page);
    await page.getByRole('button', { name: 'Allow DemoTube' }).click();
    const value = await answer;
    await settled(page);
    // The receipt records only the service; the cookie also keeps the earlier answers, marked asked again.
    expect(value.get('c')).toContain('analytics:1:1');
    expect(value.get('c')).toContain('marketing:0:1');

    await purgeScriptStorage(page);
    await page.goto(`${origin}/en/rev2.html`);
    const b = banner(page, 'We respect your privacy');
    await b.waitFor();
    expect(await b.textContent()).toContain('Our cookie policy has changed since your last choice');
    const now = await consent(page);
    expect(now.categories).toEqual({ necessary: true, analytics: false, marketing: false });
    expect(now.services.demotube).toBe(true);
    await page.getByRole('button', { name: 'Customise' }).click();
    expect(await page.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked')).toBe('true');
  }, 60_000);
});
