// Identity linking end to end (issue 4): the demo with its sign-in backend and the real receipt server, a
// desktop and an emulated phone (two browser contexts = two browsers with their own storage and device ids).
import { createHmac, randomUUID } from 'node:crypto';
import { type Browser, type BrowserContext, devices, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoBackend, DEMO_IDENTITY, identitySite } from '../demo/backend.mjs';
import { createDemoServer } from '../scripts/demo-server.mjs';
import { freePort, launchChromium, type ReceiptServer, startReceiptServer, waitFor } from './harness.ts';
import { consent } from './widget-helpers.ts';

type Api = {
  identify(token: string): Promise<unknown>;
  acceptAll(): Promise<unknown>;
  rejectAll(): Promise<unknown>;
  receipts(): Promise<{ pending: unknown[] } | null>;
  has(id: string): boolean;
};
declare const assenso: Api;

let browser: Browser;
const began = Date.now();
/** Progress on stderr: under a loaded machine, tells which step is slow. */
const step = (what: string) =>
  console.error(`[identity e2e] +${((Date.now() - began) / 1000).toFixed(1)} s ${what}`);
let server: ReceiptServer;
let demoUrl: string;
let closeDemo: () => Promise<void>;

beforeAll(async () => {
  const port = await freePort();
  demoUrl = `http://127.0.0.1:${port}`;
  server = await startReceiptServer({ sites: [identitySite([demoUrl])], timeoutMs: 240_000 });
  const backend = await createDemoBackend();
  const demo = createDemoServer({ endpoint: server.url, handle: backend.handle });
  await demo.listen(port, '127.0.0.1');
  closeDemo = () => demo.close();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await closeDemo?.();
  await server?.stop();
});

async function signIn(page: Page, user: string) {
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') step(`page ${m.type()}: ${m.text()}`);
  });
  await page.goto(`${demoUrl}/account.html`);
  await page.getByLabel('Name').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('html[data-linked]');
  expect(await page.getAttribute('html', 'data-linked')).toBe('yes');
}

/** Waits until every receipt of the page is acknowledged by the server. */
async function delivered(page: Page) {
  await waitFor(
    () => page.evaluate(async () => ((await assenso.receipts())?.pending.length ?? 1) === 0),
    'receipts delivered',
  );
}

/** The server's answer for the device of this context (its device id from IndexedDB through the page). */
async function serverState(page: Page) {
  const deviceId = await page.evaluate(
    () =>
      (window as unknown as { assenso: { get(): { decision: { deviceId: string } | null } } }).assenso.get()
        .decision?.deviceId,
  );
  const res = await fetch(`${server.url}/v1/consent?site=demo&device=${deviceId}`);
  return (await res.json()) as { subjectId: string | null };
}

describe('one person, two devices', () => {
  let desktop: BrowserContext;
  let phone: BrowserContext;

  beforeAll(async () => {
    desktop = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    phone = await browser.newContext({ ...devices['Pixel 7'] });
  });
  afterAll(async () => {
    await desktop?.close();
    await phone?.close();
  });

  it('consent given on the phone applies on the desktop after reload, without a banner', {
    timeout: 180_000,
  }, async () => {
    const user = `anna-${randomUUID().slice(0, 8)}`;
    const pc = await desktop.newPage();
    await signIn(pc, user);
    step('desktop signed in');

    const mobile = await phone.newPage();
    await signIn(mobile, user);
    await mobile.goto(`${demoUrl}/index.html`);
    step('phone signed in');
    await consent(mobile);
    await mobile.evaluate(() => assenso.acceptAll());
    await delivered(mobile);
    step('phone decided');

    await pc.goto(`${demoUrl}/index.html`);
    await waitFor(() => pc.evaluate(() => assenso.has('analytics')), 'the phone’s consent on the desktop');
    const state = await consent(pc);
    expect(state.pending).toBe(false);
    expect(state.decision?.method).toBe('sync');
    expect(await pc.getByRole('dialog').count()).toBe(0);
    // And on a later load the decision is simply there (cookie mirror): no banner, no wait.
    await pc.reload();
    expect((await consent(pc)).categories.analytics).toBe(true);
    expect(await pc.getByRole('dialog').count()).toBe(0);
  });

  it('a revocation on the desktop reaches the phone', { timeout: 120_000 }, async () => {
    const pc = desktop.pages()[0] as Page;
    await pc.evaluate(() => assenso.rejectAll());
    await delivered(pc);
    const mobile = phone.pages()[0] as Page;
    await mobile.reload();
    await waitFor(
      async () => !(await mobile.evaluate(() => assenso.has('analytics'))),
      'the revocation on the phone',
    );
    expect((await consent(mobile)).categories.analytics).toBe(false);
    expect(await mobile.getByRole('dialog').count()).toBe(0);
  });
});

describe('a forged token', () => {
  it('leaves the browser unlinked', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${demoUrl}/index.html`);
      await page.evaluate(() => assenso.rejectAll());
      await delivered(page);
      // Signed with a guessed secret, for a user someone else is signed in as.
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const iat = Math.floor(Date.now() / 1000);
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: DEMO_IDENTITY.kid })}.${b64({ sub: 'demo-user:anna', aud: 'demo', iat, exp: iat + 300, jti: randomUUID() })}`;
      const forged = `${input}.${createHmac('sha256', 'not-the-secret-but-long-enough-0123456789').update(input).digest('base64url')}`;
      const result = await page.evaluate((t) => assenso.identify(t), forged);
      expect(result).toBeNull();
      expect((await serverState(page)).subjectId).toBeNull();
      expect(await page.evaluate(() => localStorage.getItem('assenso:linked:demo'))).toBeNull();
      expect((await consent(page)).decision?.method).toBe('reject-all');
    } finally {
      await context.close();
    }
  });
});

describe('pairing without an account', () => {
  it('a code shown on one browser links the other; the devices list and consent are shared', {
    timeout: 120_000,
  }, async () => {
    const pcContext = await browser.newContext();
    const phoneContext = await browser.newContext({ ...devices['Pixel 7'] });
    try {
      const pc = await pcContext.newPage();
      await pc.goto(`${demoUrl}/account.html`);
      await pc.getByRole('button', { name: 'Show a pairing code' }).click();
      const shown = await waitFor(async () => (await pc.textContent('#code'))?.trim(), 'a pairing code');
      const code = (shown ?? '').split(' ')[0] as string;
      expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);

      const mobile = await phoneContext.newPage();
      await mobile.goto(`${demoUrl}/account.html`);
      // A first visit: answer the banner (it covers the bottom of a phone screen), and deliver the answer.
      await consent(mobile);
      await mobile.evaluate(() => assenso.rejectAll());
      await delivered(mobile);
      await mobile.getByLabel('Code from your other device').fill(code.toLowerCase());
      await mobile.getByRole('button', { name: 'Link this browser', exact: true }).click();
      await mobile.waitForSelector('html[data-linked="yes"]');
      await mobile.getByRole('button', { name: 'Show linked devices' }).click();
      await waitFor(async () => (await mobile.locator('#devices li').count()) === 2, 'two linked devices');
      expect(await mobile.locator('#devices li', { hasText: 'Chrome · Android' }).count()).toBe(1);

      await pc.goto(`${demoUrl}/index.html`);
      await consent(pc);
      await pc.evaluate(() => assenso.acceptAll());
      await delivered(pc);
      await mobile.goto(`${demoUrl}/index.html`);
      await waitFor(
        () => mobile.evaluate(() => assenso.has('analytics')),
        'the paired desktop’s consent on the phone',
      );
    } finally {
      await pcContext.close();
      await phoneContext.close();
    }
  });
});
