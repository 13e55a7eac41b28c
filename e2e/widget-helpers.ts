// Shared by the widget e2e files: demo page variants and reading the widget's state from a page.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { type Demo, launchChromium, ROOT, type PageWatch, startDemo, waitFor, watchPage } from './harness.ts';

export const HOME_IT = readFileSync(join(ROOT, 'demo', 'index.html'), 'utf8');
export const HOME_EN = readFileSync(join(ROOT, 'demo', 'en', 'index.html'), 'utf8');
const CONFIG = /(<script type="application\/json" data-assenso-config>)([\s\S]*?)(<\/script>)/;

/** The demo home page with its inline configuration changed by `edit`. */
export function homeWith(edit: (config: Record<string, unknown>) => void, html = HOME_IT): string {
  return html.replace(CONFIG, (_all, open: string, body: string, close: string) => {
    const config = JSON.parse(body) as Record<string, unknown>;
    edit(config);
    return `${open}${JSON.stringify(config).replace(/</g, '\\u003c')}${close}`;
  });
}

/** Names of the cookies the page can see. */
export async function cookieNames(context: BrowserContext): Promise<string[]> {
  return (await context.cookies()).map((c) => c.name).sort();
}

/** window.assenso.get() of the page (waits for the API). */
export async function consent(page: Page): Promise<{
  categories: Record<string, boolean>;
  services: Record<string, boolean>;
  pending: boolean;
  decision: { method: string; revision: string } | null;
}> {
  await page.waitForFunction(
    () => !Array.isArray((window as { assenso?: unknown }).assenso) && !!window.assenso,
  );
  return page.evaluate(() => (window as unknown as { assenso: { get(): never } }).assenso.get());
}

/** The banner (role=dialog inside the widget's shadow root; Playwright locators pierce open shadow roots). */
export const banner = (page: Page, name: string) => page.getByRole('dialog', { name });

/** Errors other than the receipt endpoint being unreachable (the flow tests run without a receipt server). */
export function realErrors(watch: PageWatch): string[] {
  return watch.errors.filter(
    (e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|Failed to fetch/.test(e),
  );
}

declare global {
  interface Window {
    assenso?: unknown;
  }
}

/** expect.poll with a timeout that suits a loaded two-core machine (the default is 1 s). */
export function poll<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 30_000, interval: 100 });
}

/**
 * Waits until the page's current decision has its receipt acknowledged by the server and nothing is pending.
 * (A decision applies before its receipt is built, so "nothing pending" alone can be seen too early.)
 */
export function delivered(page: Page): Promise<boolean> {
  return waitFor(
    () =>
      page.evaluate(async () => {
        type Api = {
          get(): { decision: { receiptId: string } | null };
          receipts(): Promise<{
            pending: unknown[];
            acknowledged: { receipt: { receiptId: string } }[];
          } | null>;
        };
        const api = (window as unknown as { assenso: Api }).assenso;
        const id = api.get().decision?.receiptId;
        const log = await api.receipts();
        return (
          !!log &&
          log.pending.length === 0 &&
          (!id || log.acknowledged.some((a) => a.receipt.receiptId === id))
        );
      }),
    'receipts delivered',
  );
}

/**
 * A file's Chromium and demo server (receipts to a closed port), and `open(path, options)`: a fresh context per
 * test, closed after it, once `check(watch)` has looked at what its page printed.
 */
export function demoSuite(pages: Record<string, unknown>, check: (watch: PageWatch) => void = () => {}) {
  let browser: Browser;
  let demo: Demo;
  let context: BrowserContext | undefined;
  let watch: PageWatch | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    demo = await startDemo({ server: 'http://127.0.0.1:9', pages: pages as never });
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });
  afterEach(async () => {
    if (watch) check(watch);
    await context?.close();
    context = watch = undefined;
  });
  return async (path: string, options?: BrowserContextOptions): Promise<Page> => {
    context = await browser.newContext(options);
    const page = await context.newPage();
    watch = await watchPage(page);
    await page.goto(`${demo.url}${path}`);
    return page;
  };
}
