// Email links end to end (issue 5): the real server (in process, PGlite in a temporary directory) and the
// system Chromium: open a minted link, change two purposes on two channels, see the receipts; the same page
// with JavaScript disabled; one-click unsubscribe with a plain HTTP POST; a link whose token has expired.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/server/config.ts';
import { createLinkTokens } from '../src/server/email/tokens.ts';
import { type RunningServer, startServer } from '../src/server/main.ts';
import { createLogger } from '../src/server/logger.ts';
import { axe, launchChromium } from './harness.ts';

const DAY = 86_400_000;
let browser: Browser;
let server: RunningServer;
let dir: string;
let adminToken: string;

const SITE = {
  id: 'shop',
  name: 'Negozio',
  origins: ['https://shop.example'],
  channels: ['email', 'sms'],
  purposes: [
    {
      id: 'newsletter',
      title: { it: 'Newsletter', en: 'Newsletter' },
      channels: ['email', 'sms'],
      lifetimeDays: 365,
    },
    { id: 'offers', title: { it: 'Offerte', en: 'Offers' }, channels: ['email', 'sms'], lifetimeDays: 90 },
  ],
  emailLinks: { language: 'en' },
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'assenso-e2e-email-'));
  const env = {
    ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url'),
    ASSENSO_CONTACT_KEYS: JSON.stringify({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
  };
  server = await startServer({
    config: parseConfig({ sites: [SITE], dataDir: dir, rateLimit: false }),
    env,
    port: 0,
    host: '127.0.0.1',
    logger: createLogger('silent'),
  });
  adminToken = (await server.deps.protection!.adminKeys.create({ role: 'admin' })).token;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function mint(userId: string) {
  const res = await fetch(`${server.url}/v1/admin/links`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ site: 'shop', userId, email: `${userId}@example.com` }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { subjectId: string; preferencesUrl: string; unsubscribeUrl: string };
}

async function receipts(subjectId: string) {
  const { rows } = await server.deps.db.query<{ method: string; entry: string }>(
    'SELECT method, entry FROM receipts WHERE subject_id = $1 ORDER BY received_at, receipt_id',
    [subjectId],
  );
  return rows.map((r) => ({ method: r.method, preferences: JSON.parse(r.entry).receipt.preferences }));
}

describe('email links in Chromium', () => {
  it('opens a minted link, changes two purposes on two channels and sees the receipts', async () => {
    const links = await mint('e2e-js');
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(links.preferencesUrl);
    // The token is gone from the address bar; the session is a cookie for /p only.
    expect(new URL(page.url()).pathname).toBe('/p');
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: 'assenso_pref',
      path: '/p',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    });
    await page.waitForFunction(() => document.querySelector('script[type="module"]') !== null);

    await page
      .getByRole('switch', { name: /^Email/ })
      .first()
      .check(); // newsletter · email
    await page
      .getByRole('switch', { name: /^Text messages/ })
      .nth(1)
      .check(); // offers · sms
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your choices are saved');
    // Saved in place by the hydrated page: no navigation happened.
    expect(new URL(page.url()).search).toBe('');

    await page
      .getByRole('switch', { name: /^Text messages/ })
      .first()
      .check(); // newsletter · sms
    await page
      .getByRole('switch', { name: /^Text messages/ })
      .nth(1)
      .uncheck(); // offers · sms
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await expect.poll(async () => (await receipts(links.subjectId)).length).toBe(2);
    const stored = await receipts(links.subjectId);
    expect(stored.map((r) => r.method)).toEqual(['email-link', 'email-link']);
    expect(stored[0]?.preferences).toEqual({
      newsletter: { email: true, sms: false },
      offers: { email: false, sms: true },
    });
    expect(stored[1]?.preferences).toEqual({
      newsletter: { email: true, sms: true },
      offers: { email: false, sms: false },
    });

    // Reloaded, the page shows the stored state with expiry dates.
    await page.reload();
    await expect
      .poll(() =>
        page
          .getByRole('switch', { name: /^Text messages/ })
          .first()
          .isChecked(),
      )
      .toBe(true);
    expect(await page.locator('main').textContent()).toContain('Valid until');
    expect(await axe(page)).toEqual([]);

    // The history download is the person's signed receipts.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download my consent history' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('consent-history.json');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('works with JavaScript disabled, in Italian', async () => {
    const links = await mint('e2e-nojs');
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'it-IT' });
    const page = await context.newPage();
    await page.goto(links.preferencesUrl);
    expect(await page.locator('html').getAttribute('lang')).toBe('en'); // the link's language wins
    await page.goto(`${server.url}/p?lang=it`);
    await page.getByRole('switch', { name: /^SMS/ }).first().check();
    await page
      .getByRole('switch', { name: /^Email/ })
      .nth(1)
      .check();
    await page.getByRole('button', { name: 'Salva le scelte' }).click();
    await page.waitForURL(/\/p\?done=saved/);
    expect(await page.getByRole('status').textContent()).toContain('Your choices are saved');
    const stored = await receipts(links.subjectId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.preferences).toEqual({
      newsletter: { email: false, sms: true },
      offers: { email: true, sms: false },
    });

    await page.goto(`${server.url}/p?lang=it`);
    await page.getByRole('button', { name: 'Disiscrivimi da tutto' }).click();
    await page.waitForURL(/done=unsubscribed/);
    expect((await receipts(links.subjectId)).at(-1)?.preferences).toEqual({
      newsletter: { email: false, sms: false },
      offers: { email: false, sms: false },
    });
    await context.close();
  });

  it('one-click unsubscribe with a plain HTTP POST (no cookie, no script)', async () => {
    const links = await mint('e2e-oneclick');
    const res = await fetch(links.unsubscribeUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    const stored = await receipts(links.subjectId);
    expect(stored.map((r) => r.method)).toEqual(['unsubscribe']);
    // A GET (what a link scanner does) only shows the confirmation page.
    const page = await browser.newPage();
    await page.goto(links.unsubscribeUrl);
    expect(await page.getByRole('button', { name: 'Unsubscribe' }).count()).toBe(1);
    expect(await receipts(links.subjectId)).toHaveLength(1);
    await page.close();
  });

  it('shows a clear page for a link with an expired token, and changes nothing', async () => {
    const { subjectId } = await mint('e2e-expired');
    const past = createLinkTokens({ keys: server.deps.linkKeys!, now: () => Date.now() - 61 * DAY });
    const token = past.issue({ siteId: 'shop', subjectId, action: 'preferences', ttlMs: 60 * DAY });
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const res = await page.goto(`${server.url}/p/${token}`);
    expect(res?.status()).toBe(410);
    expect(await page.getByRole('alert').textContent()).toContain('This link has expired');
    expect(await context.cookies()).toEqual([]);
    expect(await receipts(subjectId)).toEqual([]);
    await context.close();
  });
});
