// Email links end to end (issue 5): the real server (in process, PGlite in a temporary directory) and the
// system Chromium: open a minted link, change two purposes on two channels, see the receipts; the same page
// with JavaScript disabled; one-click unsubscribe with a plain HTTP POST; a link whose token has expired; a
// link opened on the site itself (`?assenso=<token>` on the demo page): the widget links the device.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentStateResponse } from '../src/protocol/api.ts';
import { parseConfig } from '../src/server/config.ts';
import { createLinkTokens } from '../src/server/email/tokens.ts';
import { signIdentity } from '../src/server/identity-token.ts';
import { DEMO_IDENTITY, identitySite } from '../demo/backend.mjs';
import { type RunningServer, startServer } from '../src/server/main.ts';
import { createLogger } from '../src/server/logger.ts';
import { axe, type Demo, freePort, launchChromium, startDemo, waitFor } from './harness.ts';
import { delivered, HOME_IT } from './widget-helpers.ts';

const DAY = 86_400_000;
let browser: Browser;
let server: RunningServer;
let dir: string;
let adminToken: string;
/** The demo site's origin: its site on the server (`demo`) allows it, for the widget's calls. */
let demoUrl: string;

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
  demoUrl = `http://127.0.0.1:${await freePort()}`;
  const demoSite = { ...identitySite([demoUrl]), channels: SITE.channels, purposes: SITE.purposes };
  const env = {
    ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url'),
    ASSENSO_CONTACT_KEYS: JSON.stringify({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
  };
  server = await startServer({
    config: parseConfig({ sites: [SITE, demoSite], dataDir: dir, rateLimit: false }),
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

/** A page of the demo in `context`, signed in as `userId` (identity linking, the demo's identity secret). */
async function signedIn(context: BrowserContext, userId: string) {
  const page = await context.newPage();
  await page.goto(`${demoUrl}/index.html`);
  await page.waitForFunction(
    () => typeof (window as { assenso?: { identify?: unknown } }).assenso?.identify === 'function',
  );
  const jwt = signIdentity({ secret: DEMO_IDENTITY.secret, kid: DEMO_IDENTITY.kid, siteId: 'demo', userId });
  await page.evaluate((t) => assenso.identify(t), jwt);
  return page;
}

async function mint(userId: string, site = 'shop', language?: string) {
  const res = await fetch(`${server.url}/v1/admin/links`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ site, userId, email: `${userId}@example.com`, language }),
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
    // Minted for an English email: the link's language wins over the Italian browser's.
    const links = await mint('e2e-nojs', 'shop', 'en');
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'it-IT' });
    const page = await context.newPage();
    await page.goto(links.preferencesUrl);
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
    await page.goto(`${server.url}/p?lang=it`);
    await page.getByRole('switch', { name: /^SMS/ }).first().check();
    await page
      .getByRole('switch', { name: /^Email/ })
      .nth(1)
      .check();
    await page.getByRole('button', { name: 'Salva le mie scelte' }).click();
    // The page after saving, and the receipt, stay in the language the person chose on the page.
    await page.waitForURL(/\/p\?done=saved&lang=it/);
    expect(await page.locator('html').getAttribute('lang')).toBe('it');
    expect(await page.getByRole('status').textContent()).toBe('Le tue scelte sono state salvate. Grazie.');
    const { rows } = await server.deps.db.query<{ entry: string }>(
      'SELECT entry FROM receipts WHERE subject_id = $1',
      [links.subjectId],
    );
    expect(rows.map((r) => JSON.parse(r.entry).receipt.language)).toEqual(['it']);
    const stored = await receipts(links.subjectId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.preferences).toEqual({
      newsletter: { email: false, sms: true },
      offers: { email: true, sms: false },
    });

    await page.goto(`${server.url}/p?lang=it`);
    await page.getByRole('button', { name: 'Annulla tutte le iscrizioni' }).click();
    await page.waitForURL(/done=unsubscribed/);
    expect(await page.getByRole('status').textContent()).toBe(
      'Fatto: non riceverai più comunicazioni su nessun canale.',
    );
    expect((await receipts(links.subjectId)).at(-1)?.preferences).toEqual({
      newsletter: { email: false, sms: false },
      offers: { email: false, sms: false },
    });
    await context.close();
  });

  /** The preference page of a new person, in English, hydrated (`goto` waits for the load event, after modules). */
  async function hydratedPage(userId: string) {
    const links = await mint(userId);
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(links.preferencesUrl);
    await page.waitForFunction(() => document.querySelector('script[type="module"]') !== null);
    return { links, context, page };
  }

  it('hydrated page: a save with a stale form or after the session ended says so', async () => {
    const { context, page } = await hydratedPage('e2e-ended');
    await page
      .getByRole('switch', { name: /^Email/ })
      .first()
      .check();
    const save = page.getByRole('button', { name: 'Save my choices' });
    // The link opened again elsewhere replaces the CSRF token this page holds.
    await page.evaluate(() => {
      for (const input of document.querySelectorAll<HTMLInputElement>('input[name="csrf"]'))
        input.value = 'stale';
    });
    await save.click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('This form has expired or comes from another site');
    await context.clearCookies(); // the 30-minute session is over
    await save.click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your session has ended');
    await context.close();
  });

  it('the status region is in the accessibility tree, empty, before a save; the notice arrives in it', async () => {
    const { context, page } = await hydratedPage('e2e-status');
    const status = page.getByRole('status'); // hidden elements are not matched
    expect(await status.count()).toBe(1);
    expect(await status.textContent()).toBe('');
    expect(await status.getAttribute('aria-live')).toBe('polite');
    // Chromium's own accessibility tree, the one screen readers read, holds it before any text does.
    const cdp = await context.newCDPSession(page);
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string } }[];
    };
    expect(nodes.filter((n) => n.role?.value === 'status' && !n.ignored)).toHaveLength(1);
    // Empty, it takes no room in the page.
    expect((await status.boundingBox())?.height).toBe(0);
    // Every text the region shows, in order: a second identical notice is a change too (empty in between).
    await status.evaluate((el) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    const save = page.getByRole('button', { name: 'Save my choices' });
    await save.click();
    await expect.poll(() => status.textContent()).toBe('Your choices are saved. Thank you.');
    await save.click();
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { seen: string[] }).seen))
      .toEqual(['Your choices are saved. Thank you.', '', 'Your choices are saved. Thank you.']);
    expect(await axe(page)).toEqual([]);
    await context.close();
  });

  it('keyboard: after saving with Enter, focus stays on the Save button', async () => {
    const { links, context, page } = await hydratedPage('e2e-focus');
    await page
      .getByRole('switch', { name: /^Email/ })
      .first()
      .focus();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Save my choices' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your choices are saved');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Save my choices');
    expect(await receipts(links.subjectId)).toHaveLength(1);
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

  /** Erasure requests and unsubscribe receipts recorded for a person. */
  async function erasureRequests(subjectId: string) {
    const { rows } = await server.deps.db.query<{ status: string }>(
      'SELECT status FROM email_erasure_requests WHERE subject_id = $1',
      [subjectId],
    );
    return rows;
  }

  it('erasure: a reload after confirming, or the confirmation sent again, shows the same page and records one request', async () => {
    const { links, context, page } = await hydratedPage('e2e-erase-reload');
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && posts.push(new URL(r.url()).pathname));
    await page.getByRole('button', { name: 'Ask to erase my data' }).click();
    await page.getByRole('heading', { name: 'Erase your data?' }).waitFor();
    // The confirmation step's form, as the browser keeps it in its history (Back, then the button again).
    const confirmForm = await page
      .locator('form')
      .evaluate((f: HTMLFormElement) => [f.action, [...new FormData(f)].map(([k, v]) => [k, String(v)])]);
    await page.getByRole('button', { name: 'Yes, erase my data' }).click();
    const received = page.getByRole('heading', { name: 'Erasure requested' });
    await received.waitFor();
    expect(await erasureRequests(links.subjectId)).toEqual([{ status: 'pending' }]);

    posts.length = 0;
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    await received.waitFor();
    expect(posts).toEqual([]); // a reload reads the page again; it does not send the form again
    expect(await page.locator('main').textContent()).toContain('Erasure request recorded on');
    expect(await axe(page)).toEqual([]);

    // The same confirmation sent again, as from the step's page kept in the browser's history (Back, then
    // its button): the same page, not "ask again".
    await page.evaluate(([action, fields]) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = action as string;
      for (const [name, value] of fields as [string, string][]) {
        const input = form.appendChild(document.createElement('input'));
        input.type = 'hidden';
        input.name = name;
        input.value = value;
      }
      document.body.append(form);
      form.submit();
    }, confirmForm);
    await page.waitForLoadState();
    await received.waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(await erasureRequests(links.subjectId)).toEqual([{ status: 'pending' }]);
    await context.close();
  });

  it('one-click unsubscribe in the browser: a reload shows the done page and sends nothing again', async () => {
    const links = await mint('e2e-unsub-reload');
    const context = await browser.newContext({ locale: 'en-GB' });
    const page = await context.newPage();
    const posts: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && posts.push(r.url()));
    await page.goto(links.unsubscribeUrl);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    const done = page.getByRole('heading', { name: 'Unsubscribed from Negozio' });
    await done.waitFor();
    expect(posts).toHaveLength(1);
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    await done.waitFor();
    expect(posts).toHaveLength(1);
    expect((await receipts(links.subjectId)).map((r) => r.method)).toEqual(['unsubscribe']);
    expect(await axe(page)).toEqual([]);
    await context.close();
  });

  it('without JavaScript, a reload after saving shows the page again and records nothing more', async () => {
    const links = await mint('e2e-save-reload');
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(links.preferencesUrl);
    await page
      .getByRole('switch', { name: /^Email/ })
      .first()
      .check();
    await page.getByRole('button', { name: 'Save my choices' }).click();
    await page.waitForURL(/\/p\?done=saved/);
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    expect(await page.getByRole('status').textContent()).toContain('Your choices are saved');
    expect(await receipts(links.subjectId)).toHaveLength(1);
    await context.close();
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

type Api = {
  identify(token: string): Promise<unknown>;
  set(choices: { categories: Record<string, boolean> }): Promise<unknown>;
  acceptAll(): Promise<unknown>;
  rejectAll(): Promise<unknown>;
  identity(): Promise<{ devices(): Promise<{ devices: unknown[] }> }>;
  receipts(): Promise<{ pending: unknown[] } | null>;
  get(): { decision: { deviceId: string; method: string } | null };
};
declare const assenso: Api;

describe('a preference link opened on the site (?assenso=<token>)', () => {
  let demo: Demo;
  beforeAll(async () => {
    // The demo home with an inline script gated on analytics: it records the URL it runs under.
    // It comes before the widget's tag, so the widget finds it at start-up.
    const gated = HOME_IT.replace(
      '<script src="/assenso.js" async></script>',
      '<script type="text/plain" data-assenso="analytics">document.documentElement.dataset.seen = location.href</script><script src="/assenso.js" async></script>',
    );
    demo = await startDemo({
      server: server.url,
      port: Number(new URL(demoUrl).port),
      pages: { '/gated.html': gated },
    });
  });
  afterAll(async () => {
    await demo?.close();
  });

  /** The server's answer for the device of the page (its id from the stored decision). */
  async function serverState(page: Page) {
    const deviceId = await page.evaluate(() => assenso.get().decision?.deviceId);
    expect(deviceId).toMatch(/^[0-9a-f]{32}$/);
    const res = await fetch(`${server.url}/v1/consent?site=demo&device=${deviceId}`);
    return (await res.json()) as ConsentStateResponse;
  }
  const pageWatch = (page: Page) => {
    const seen = { errors: [] as string[], warnings: [] as string[] };
    page.on('pageerror', (e) => seen.errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') seen.errors.push(m.text());
      if (m.type() === 'warning') seen.warnings.push(m.text());
    });
    return seen;
  };

  /** The question an email link opened on `page` asks in "Your devices" (in Italian), once it has the focus. */
  async function emailQuestion(page: Page) {
    const question = page.getByRole('group', {
      name: 'Collegare questo browser alla persona a cui è stato inviato il link dell’email?',
    });
    await question.waitFor({ timeout: 30_000 });
    await waitFor(
      () => question.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el),
      'the focus on the question',
    );
    return question;
  }

  it('someone else’s link links nothing on load; Cancel leaves this browser, its consent and the server as they were', async () => {
    // Whoever gets preference emails from the shop has a token of their own, and their "accept all" behind it.
    const attackerContext = await browser.newContext();
    const userId = `e2e-attacker-${randomBytes(4).toString('hex')}`;
    const attacker = await signedIn(attackerContext, userId);
    await attacker.evaluate(() => assenso.acceptAll());
    await delivered(attacker);
    const links = await mint(userId, 'demo');
    const token = new URL(links.preferencesUrl).pathname.split('/').pop()!;

    // The visitor has refused everything on her browser; she is sent the link and opens it.
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = pageWatch(page);
    const exchanges: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/v1/email-link/')) exchanges.push(r.url());
    });
    await page.goto(`${demoUrl}/index.html`);
    await page.waitForFunction(
      () => typeof (window as { assenso?: { get?: unknown } }).assenso?.get === 'function',
    );
    await page.evaluate(() => assenso.rejectAll());
    await delivered(page);
    const own = await page.evaluate(() => assenso.get().decision);
    await page.goto(`${demoUrl}/index.html?assenso=${token}`);
    expect(page.url()).toBe(`${demoUrl}/index.html`);
    // Until she is asked, or (what the link did before it asked) the token is exchanged on load.
    const asked = page.getByRole('group', { name: /^Collegare questo browser/ });
    await waitFor(
      async () => (await asked.count()) > 0 || exchanges.length > 0,
      'the question, or an exchange made without one',
      30_000,
    );
    expect(exchanges).toEqual([]);
    const question = await emailQuestion(page);
    const violations = await axe(page, { include: 'assenso-consent' });
    expect(violations).toEqual([]);

    // Asked, not linked: her own choices in the switches, no exchange, unlinked on the server.
    const analytics = page.getByRole('switch', { name: 'Statistiche', exact: true });
    expect(await analytics.getAttribute('aria-checked')).toBe('false');
    expect(exchanges).toEqual([]);
    expect((await serverState(page)).subjectId).toBeNull();

    await question.getByRole('button', { name: 'Annulla', exact: true }).click();
    await page.getByText('Nessun collegamento. Le scelte qui sono solo di questo browser.').waitFor();
    expect(await question.count()).toBe(0);
    // As it was: no exchange, unlinked, her decision kept (theirs not applied), and their subject still has
    // their one browser.
    expect(exchanges).toEqual([]);
    const state = await serverState(page);
    expect(state.subjectId).toBeNull();
    expect(state.decision?.categories.analytics).toBe(false);
    expect(await page.evaluate(() => assenso.get().decision)).toEqual(own);
    expect(await analytics.getAttribute('aria-checked')).toBe('false');
    expect(await page.evaluate(() => localStorage.getItem('assenso:linked:demo'))).toBeNull();
    const theirs = await attacker.evaluate(async () => (await assenso.identity()).devices());
    expect(theirs.devices).toHaveLength(1);
    expect(seen.errors).toEqual([]);
    await attackerContext.close();
    await context.close();
  });

  it('drops the token from the URL, links the device and opens the preference center with the person’s consent', async () => {
    const userId = 'e2e-onsite';
    // The person decided on their laptop, signed in there (identity linking).
    const laptop = await browser.newContext();
    const lp = await signedIn(laptop, userId);
    await lp.evaluate(() => assenso.set({ categories: { analytics: true, marketing: false } }));
    await delivered(lp);
    const links = await mint(userId, 'demo');
    const token = new URL(links.preferencesUrl).pathname.split('/').pop()!;

    // On the laptop, where analytics is granted, a gated inline script runs at start-up: the token is gone.
    await lp.goto(`${demoUrl}/gated.html?assenso=${token}`);
    await lp.waitForFunction(() => document.documentElement.dataset.seen !== undefined);
    expect(await lp.evaluate(() => document.documentElement.dataset.seen)).toBe(`${demoUrl}/gated.html`);

    // Their phone opens the link from an email on the site itself.
    const phone = await browser.newContext();
    const page = await phone.newPage();
    const seen = pageWatch(page);
    await page.goto(`${demoUrl}/index.html?assenso=${token}`);
    expect(page.url()).toBe(`${demoUrl}/index.html`);
    // about:blank and this page: the token's URL was replaced in place, not followed by a new entry.
    expect(await page.evaluate(() => history.length)).toBe(2);

    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.isVisible(), { timeout: 30_000 }).toBe(true);
    // Asked first ("Your devices", with the focus on the question); linked only by Link.
    const question = await emailQuestion(page);
    expect(await page.evaluate(() => localStorage.getItem('assenso:linked:demo'))).toBeNull();
    await question.getByRole('button', { name: 'Collega', exact: true }).click();
    const analytics = page.getByRole('switch', { name: 'Statistiche', exact: true });
    await expect.poll(() => analytics.getAttribute('aria-checked'), { timeout: 30_000 }).toBe('true');
    expect(
      await page
        .getByRole('switch', { name: 'Contenuti esterni e marketing', exact: true })
        .getAttribute('aria-checked'),
    ).toBe('false');
    const state = await serverState(page);
    expect(state.subjectId).toBe(links.subjectId);
    expect(state.decision?.categories).toMatchObject({ analytics: true, marketing: false });
    expect(await page.evaluate(() => localStorage.getItem('assenso:linked:demo'))).toBe('1');
    expect(await page.evaluate(() => assenso.get().decision?.method)).toBe('sync');
    expect(seen.errors).toEqual([]);
    expect(seen.warnings.filter((w) => w.includes('[assenso]'))).toEqual([]);
    await laptop.close();
    await phone.close();
  });

  it('with an expired token: the token is gone too, nothing is linked, one warning, and the widget still works', async () => {
    const { subjectId } = await mint('e2e-onsite-expired', 'demo');
    const past = createLinkTokens({ keys: server.deps.linkKeys!, now: () => Date.now() - 61 * DAY });
    const token = past.issue({ siteId: 'demo', subjectId, action: 'preferences', ttlMs: 60 * DAY });
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = pageWatch(page);
    await page.goto(`${demoUrl}/index.html?lang=it&assenso=${token}`);
    expect(page.url()).toBe(`${demoUrl}/index.html?lang=it`);
    await expect.poll(() => page.getByRole('dialog').isVisible(), { timeout: 30_000 }).toBe(true);
    await (await emailQuestion(page)).getByRole('button', { name: 'Collega', exact: true }).click();
    await expect
      .poll(() => seen.warnings.filter((w) => w.includes('email link failed')).length, { timeout: 30_000 })
      .toBe(1);
    // It says so first, inside the dialog, in the page's language.
    expect(await page.getByRole('dialog').getByRole('alert').textContent()).toContain(
      'Questo link è scaduto o non è più valido',
    );
    // The preference center works for this device alone.
    await page.getByRole('switch', { name: 'Statistiche', exact: true }).click();
    await page.getByRole('button', { name: /Salva/ }).click();
    await waitFor(
      () => page.evaluate(() => assenso.get().decision?.method === 'preferences'),
      'the choice saved',
    );
    await delivered(page);
    const state = await serverState(page);
    expect(state.subjectId).toBeNull();
    expect(state.decision?.categories.analytics).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('assenso:linked:demo'))).toBeNull();
    expect(seen.errors.filter((e) => !e.includes('410'))).toEqual([]);
    await context.close();
  });
});
