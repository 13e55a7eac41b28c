// The widget on the demo shop, built bundle, real Chromium: the decisions a visitor makes and what they do
// to the page (gated script, iframe, cookies), across reloads, tabs, GPC, a new revision and expiry.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Demo, launchChromium, type PageWatch, startDemo, watchPage } from './harness.ts';
import { banner, consent, cookieNames, HOME_EN, homeWith, realErrors, poll } from './widget-helpers.ts';

let browser: Browser;
let demo: Demo;
let context: BrowserContext;
let watch: PageWatch;

// Receipts go to a closed port: these tests are about the widget; the receipt server has its own e2e.
const UNREACHABLE = 'http://127.0.0.1:9';
const DAY = 86_400_000;

beforeAll(async () => {
  browser = await launchChromium();
  demo = await startDemo({
    server: UNREACHABLE,
    pages: {
      '/rev2.html': homeWith((c) => {
        c.revision = '2027-01';
      }),
      '/en/rev2.html': homeWith((c) => {
        c.revision = '2027-01';
      }, HOME_EN),
    },
  });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});
afterEach(async () => {
  expect(realErrors(watch)).toEqual([]);
  await context?.close();
});

async function open(path = '/index.html', init?: (c: BrowserContext) => Promise<unknown>): Promise<Page> {
  context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  await init?.(context);
  const page = await context.newPage();
  watch = await watchPage(page);
  await page.goto(`${demo.url}${path}`);
  return page;
}

const analyticsRuns = (page: Page) =>
  page.evaluate(() => document.documentElement.dataset.analyticsRuns ?? '0');

describe('first visit', () => {
  it('Accept all: the gated script runs once, the video loads, and a reload keeps it with no banner', async () => {
    const page = await open();
    await expect(banner(page, 'Rispettiamo la tua privacy').isVisible()).resolves.toBe(true);
    expect(await analyticsRuns(page)).toBe('0');
    expect(await cookieNames(context)).not.toContain('_demo_analytics');
    expect(await page.locator('iframe[data-assenso]').getAttribute('src')).toBeNull();

    await page.getByRole('button', { name: 'Accetta tutti' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    await expect(banner(page, 'Rispettiamo la tua privacy').count()).resolves.toBe(0);
    expect(await page.locator('#analytics-status').textContent()).toBe('Statistiche: attive');
    await page.waitForFunction(() => document.querySelector('iframe[data-assenso]')?.getAttribute('src'));
    expect(await cookieNames(context)).toEqual(expect.arrayContaining(['_demo_analytics', 'assenso']));
    expect((await consent(page)).decision?.method).toBe('accept-all');

    await page.reload();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect((await consent(page)).categories).toEqual({ necessary: true, analytics: true, marketing: true });
    // No UI code ran for the returning visitor: the widget never mounted.
    expect(await page.locator('assenso-consent').count()).toBe(0);
  });

  it('Reject all: nothing gated runs, before or after a reload', async () => {
    const page = await open('/en/index.html');
    await page.getByRole('button', { name: 'Reject all' }).click();
    await poll(async () => (await consent(page)).decision?.method).toBe('reject-all');
    await page.reload();
    await page.waitForLoadState('load');
    expect(await analyticsRuns(page)).toBe('0');
    expect(await cookieNames(context)).not.toContain('_demo_analytics');
    expect(await page.locator('assenso-consent').count()).toBe(0);
    // The iframe shows a placeholder that offers to allow just that service (filled when the delivery chunk
    // arrives, so waited for).
    await page.getByRole('button', { name: 'Allow DemoTube' }).waitFor({ state: 'visible' });
  });

  it('Customise: analytics only, saved; the video placeholder allows just DemoTube', async () => {
    const page = await open('/en/index.html');
    await page.getByRole('button', { name: 'Customise' }).click();
    await page.getByRole('switch', { name: 'Analytics' }).click();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect((await consent(page)).categories).toEqual({ necessary: true, analytics: true, marketing: false });
    expect(await page.locator('iframe[data-assenso]').getAttribute('src')).toBeNull();

    await page.getByRole('button', { name: 'Allow DemoTube' }).click();
    await page.waitForFunction(() => document.querySelector('iframe[data-assenso]')?.getAttribute('src'));
    const state = await consent(page);
    expect(state.services.demotube).toBe(true);
    expect(state.decision?.method).toBe('service');
  });
});

describe('a video allowed before the banner is answered', () => {
  it('plays, records no refusal, and the banner stays until answered, on this page and the next', async () => {
    const page = await open('/en/index.html');
    await banner(page, 'We respect your privacy').waitFor();
    await page.getByRole('button', { name: 'Allow DemoTube' }).click();
    await page.waitForFunction(() => document.querySelector('iframe[data-assenso]')?.getAttribute('src'));
    const state = await consent(page);
    expect(state.decision).toMatchObject({ method: 'service', categories: { necessary: true } });
    const answered = (state.decision as { categories?: Record<string, boolean> } | null)?.categories;
    expect(Object.keys(answered ?? {})).toEqual(['necessary']);
    expect(state).toMatchObject({ pending: true, services: { demotube: true } });
    expect(await banner(page, 'We respect your privacy').isVisible()).toBe(true);
    await page.reload();
    await banner(page, 'We respect your privacy').waitFor();
    await page.waitForFunction(() => document.querySelector('iframe[data-assenso]')?.getAttribute('src'));
    expect(await analyticsRuns(page)).toBe('0');
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect((await consent(page)).pending).toBe(false);
  });
});

describe('changing one’s mind', () => {
  it('"Cookie settings" opens the preference center; rejecting clears the services’ cookies and storage', async () => {
    const page = await open('/en/index.html');
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => localStorage.getItem('_demo_analytics_ls'));
    await poll(() => cookieNames(context)).toEqual(
      expect.arrayContaining(['_demo_analytics', '_demo_video']),
    );

    await page.goto(`${demo.url}/en/privacy.html`);
    await page.getByRole('link', { name: 'Cookie settings' }).first().click();
    const prefs = banner(page, 'Cookie preferences');
    await prefs.waitFor();
    expect(await prefs.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked')).toBe('true');
    await prefs.getByRole('button', { name: 'Reject all' }).click();
    // (Each deletion reaches the browser's cookie store on its own: the video's, made after the analytics one,
    // can still be on its way when the first is seen gone.)
    await poll(async () => (await cookieNames(context)).filter((n) => n.startsWith('_demo_'))).toEqual([]);
    expect(await page.evaluate(() => localStorage.getItem('_demo_analytics_ls'))).toBeNull();
    expect(page.url()).toBe(`${demo.url}/en/privacy.html`);
  });

  it('a decision in one tab reaches the other without a reload (the state page updates live)', async () => {
    const page = await open('/en/state.html');
    expect((await consent(page)).pending).toBe(true);
    const other = await context.newPage();
    await other.goto(`${demo.url}/en/index.html`);
    await poll(async () => JSON.parse((await page.locator('#state').textContent()) ?? '{}').pending).toBe(
      true,
    );
    await other.getByRole('button', { name: 'Accept all' }).click();
    await poll(
      async () => JSON.parse((await page.locator('#state').textContent()) ?? '{}').categories?.analytics,
    ).toBe(true);
    await expect(banner(page, 'We respect your privacy').count()).resolves.toBe(0);
    // …and a reset in the first tab brings the banner back in the second one.
    await page.evaluate(() => (window as unknown as { assenso: { reset(): Promise<void> } }).assenso.reset());
    await banner(other, 'We respect your privacy').waitFor();
  });
});

describe('asked again', () => {
  it('Global Privacy Control: the banner says so and marketing stays off after Accept all', async () => {
    const page = await open('/en/index.html', (c) =>
      c.addInitScript(() =>
        Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
      ),
    );
    const b = banner(page, 'We respect your privacy');
    expect(await b.textContent()).toContain(
      'Global Privacy Control signal, so we keep External content and marketing off',
    );
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    expect((await consent(page)).categories).toEqual({ necessary: true, analytics: true, marketing: false });
  });

  it('a new policy revision brings the banner back, saying why, with the previous choices prefilled', async () => {
    const page = await open('/en/index.html');
    await page.getByRole('button', { name: 'Customise' }).click();
    await page.getByRole('switch', { name: 'Analytics' }).click();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');

    await page.goto(`${demo.url}/en/rev2.html`);
    const b = banner(page, 'We respect your privacy');
    await b.waitFor();
    expect(await b.textContent()).toContain('Our cookie policy has changed since your last choice');
    expect(await analyticsRuns(page)).toBe('0');
    await page.getByRole('button', { name: 'Customise' }).click();
    expect(await page.getByRole('switch', { name: 'Analytics' }).getAttribute('aria-checked')).toBe('true');
    expect(
      await page.getByRole('switch', { name: 'External content and marketing' }).getAttribute('aria-checked'),
    ).toBe('false');
  });

  it('a tab still on the old policy: its answer applies there, and the newer policy’s answer stays in force', async () => {
    const page = await open('/en/index.html');
    await page.getByRole('button', { name: 'Reject all' }).click();
    // The site changes its policy; the visitor opens a new tab and refuses again there.
    const other = await context.newPage();
    await other.goto(`${demo.url}/en/rev2.html`);
    await banner(other, 'We respect your privacy').waitFor();
    await other.getByRole('button', { name: 'Reject all' }).click();
    // The old tab asks again about its own policy; the visitor accepts there.
    await banner(page, 'We respect your privacy').waitFor();
    await page.getByRole('button', { name: 'Accept all' }).click();
    await page.waitForFunction(() => document.documentElement.dataset.analyticsRuns === '1');
    type Log = { pending: { revision: string; method: string; previousReceiptId: string | null }[] };
    const log = () =>
      page.evaluate(() =>
        (window as unknown as { assenso: { receipts(): Promise<Log> } }).assenso.receipts(),
      );
    // Its receipt records that answer, on the old policy, after the new tab's.
    await poll(async () => (await log()).pending.map((r) => `${r.revision} ${r.method}`)).toEqual([
      '2026-11 reject-all',
      '2027-01 reject-all',
      '2026-11 accept-all',
    ]);
    // The new tab, and the next page on the new policy, keep the refusal, and do not ask again.
    for (const next of [false, true]) {
      if (next) await other.reload();
      expect((await consent(other)).decision).toMatchObject({ revision: '2027-01', method: 'reject-all' });
      expect(await banner(other, 'We respect your privacy').count()).toBe(0);
      expect(await analyticsRuns(other)).toBe('0');
    }
  });

  it('an expired decision brings the banner back (controlled clock)', async () => {
    const start = new Date('2026-03-01T10:00:00Z');
    const page = await open('/en/index.html');
    await page.clock.install({ time: start });
    await page.reload();
    await page.getByRole('button', { name: 'Accept all' }).click();
    await poll(async () => (await consent(page)).decision?.method).toBe('accept-all');
    await page.clock.setSystemTime(start.getTime() + 100 * DAY);
    await page.reload();
    expect((await consent(page)).pending).toBe(false);
    expect(await page.locator('assenso-consent').count()).toBe(0);

    await page.clock.setSystemTime(start.getTime() + 190 * DAY);
    await page.reload();
    const b = banner(page, 'We respect your privacy');
    await b.waitFor();
    expect(await b.textContent()).toMatch(/Your earlier choice for .*Analytics.* has expired/);
    expect(await analyticsRuns(page)).toBe('0');
  });
});
