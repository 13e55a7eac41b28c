// Identity linking end to end (issue 4): the demo with its sign-in backend and the real receipt server, a
// desktop and an emulated phone (two browser contexts = two browsers with their own storage and device ids).
import { createHmac, randomUUID } from 'node:crypto';
import { type Browser, type BrowserContext, devices, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoBackend, DEMO_IDENTITY, identitySite } from '../demo/backend.mjs';
import type { IdentityApi } from '../src/core/identity.ts';
import { createDemoServer } from '../scripts/demo-server.mjs';
import {
  axe,
  formatViolations,
  freePort,
  launchChromium,
  type ReceiptServer,
  startDemo,
  startReceiptServer,
  waitFor,
  watchPage,
} from './harness.ts';
import { consent, delivered, HOME_EN, homeWith, realErrors } from './widget-helpers.ts';

type Api = {
  identify(token: string): Promise<unknown>;
  acceptAll(): Promise<unknown>;
  rejectAll(): Promise<unknown>;
  receipts(): Promise<{ pending: unknown[] } | null>;
  has(id: string): boolean;
  open(): void;
  identity(): Promise<IdentityApi>;
  get(): { decision: { deviceId: string } | null };
};
declare const assenso: Api;

let browser: Browser;
const began = Date.now();
/** Progress on stderr: under a loaded machine, tells which step is slow. */
const step = (what: string) =>
  console.error(`[identity e2e] +${((Date.now() - began) / 1000).toFixed(1)} s ${what}`);
let server: ReceiptServer;
let demoUrl: string;
/** The same demo under the strict CSP of issue 2 (nonce + strict-dynamic, Trusted Types). */
let cspUrl: string;
const closeDemos: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const [port, cspPort] = [await freePort(), await freePort()];
  demoUrl = `http://127.0.0.1:${port}`;
  cspUrl = `http://127.0.0.1:${cspPort}`;
  server = await startReceiptServer({ sites: [identitySite([demoUrl, cspUrl])], timeoutMs: 240_000 });
  const backend = await createDemoBackend();
  for (const [p, csp] of [
    [port, false],
    [cspPort, true],
  ] as const) {
    const demo = createDemoServer({ endpoint: server.url, handle: backend.handle, csp });
    await demo.listen(p, '127.0.0.1');
    closeDemos.push(() => demo.close());
  }
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const close of closeDemos) await close();
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
      expect((await consent(page)).decision?.method).toBe('api');
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

describe('data-identity on the script tag', () => {
  it('links the browser when the page loads', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      // A page the site renders for a signed-in user: the token in the tag (demo/backend.mjs).
      await page.goto(`${demoUrl}/signed-in.html?user=tag-${randomUUID().slice(0, 8)}`);
      await waitFor(
        () => page.evaluate(() => localStorage.getItem('assenso:linked:demo') === '1'),
        'the linked flag',
      );
      const { subjectId, devices } = await page.evaluate(async () =>
        (
          await (window as unknown as { assenso: { identity(): Promise<IdentityApi> } }).assenso.identity()
        ).devices(),
      );
      expect(subjectId).toMatch(/^s_/);
      expect(devices.map((d) => d.current)).toEqual([true]);
    } finally {
      await context.close();
    }
  });
});

/** The preference center's "Your devices" section (Playwright locators pierce the open shadow roots). */
async function devicesSection(page: Page) {
  await consent(page);
  await page.evaluate(() => assenso.open());
  const section = page.getByRole('region', { name: 'Your devices' });
  await section.waitFor();
  return section;
}

/** Shows a pairing code in the section and returns it. */
async function showCode(section: ReturnType<Page['getByRole']>) {
  await section.getByRole('button', { name: /^Show a (new )?code$/ }).click();
  const code =
    (await waitFor(async () => (await section.locator('.cd').textContent())?.trim(), 'a code')) ?? '';
  expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  return code;
}

/** The question a pairing link opened on `page` asks in "Your devices", once it has the focus. */
async function pairingQuestion(page: Page, code: string) {
  const question = page.getByRole('group', {
    name: `Link this browser with the device that showed the code ${code}?`,
  });
  await question.waitFor({ timeout: 30_000 });
  await waitFor(
    () => question.evaluate((el) => (el.getRootNode() as ShadowRoot).activeElement === el),
    'the focus on the question',
  );
  return question;
}

describe('pairing in the preference center', () => {
  it('scanning the QR code (its URL) links the phone; consent, the devices list and unlinking follow', {
    timeout: 240_000,
  }, async () => {
    const pcContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const phoneContext = await browser.newContext({ ...devices['Pixel 7'] });
    const laptopContext = await browser.newContext();
    try {
      const pc = await pcContext.newPage();
      await pc.goto(`${demoUrl}/en/index.html`);
      const section = await devicesSection(pc);
      await section.getByText('This browser is not linked to any other yet.').waitFor();
      const code = await showCode(section);
      await expect(section.getByText(/^Valid for [45]:\d\d$/).count()).resolves.toBe(1);
      const qr = section.getByRole('img', { name: new RegExp(`QR code: .*${code}$`) });
      await qr.locator('svg path').waitFor({ state: 'attached' });
      step('desktop shows a code and its QR code');
      const violations = await axe(pc, { include: 'assenso-consent' });
      expect(violations, formatViolations(violations)).toEqual([]);

      // What the QR code encodes: this page with the code in the fragment.
      const mobile = await phoneContext.newPage();
      await mobile.goto(`${demoUrl}/en/index.html#assenso-pair=${code}`);
      expect(mobile.url()).not.toContain(code);
      // Asked first, in the preference center, with the focus on the question: linked only by Link.
      const question = await pairingQuestion(mobile, code);
      expect(await mobile.evaluate(() => localStorage.getItem('assenso:linked:demo'))).toBeNull();
      await question.getByRole('button', { name: 'Link', exact: true }).click();
      await waitFor(
        () => mobile.evaluate(() => localStorage.getItem('assenso:linked:demo') === '1'),
        'the phone linked by the pairing link',
      );
      await consent(mobile);
      await mobile.evaluate(() => assenso.acceptAll());
      await delivered(mobile);
      step('phone linked and decided');

      // The desktop notices that its code was used and lists both browsers.
      await section.getByText('Your other device is now linked.').waitFor();
      await waitFor(async () => (await section.getByRole('listitem').count()) === 2, 'two devices listed');
      await expect(
        section.getByRole('listitem').filter({ hasText: 'Chrome · Android' }).count(),
      ).resolves.toBe(1);
      await expect(section.getByRole('listitem').filter({ hasText: '(this device)' }).count()).resolves.toBe(
        1,
      );

      // The phone's consent on the desktop after a reload, without a banner.
      await pc.reload();
      await waitFor(() => pc.evaluate(() => assenso.has('analytics')), 'the phone’s consent on the desktop');
      expect((await consent(pc)).decision?.method).toBe('sync');
      expect(await pc.getByRole('dialog').count()).toBe(0);
      const subject = (await serverState(pc)).subjectId;
      expect(subject).toMatch(/^s_/);
      expect((await serverState(mobile)).subjectId).toBe(subject);
      step('consent followed');

      // A code typed into the input works as well (a third browser).
      const laptop = await laptopContext.newPage();
      await laptop.goto(`${demoUrl}/en/index.html`);
      const laptopSection = await devicesSection(laptop);
      const typed = await showCode(await devicesSection(pc));
      await laptopSection
        .getByLabel('Enter a code from another device')
        .fill(typed.toLowerCase().replace('-', ' '));
      await laptopSection.getByRole('button', { name: 'Link this device' }).click();
      await laptopSection.getByText('Linked: your cookie choices now follow you on these devices.').waitFor();
      await waitFor(
        async () => (await laptopSection.getByRole('listitem').count()) === 3,
        'three devices listed',
      );
      // The person's consent applies when the preference center closes (and the banner goes with it).
      await laptop.getByRole('button', { name: 'Close', exact: true }).click();
      await waitFor(
        () => laptop.evaluate(() => assenso.has('analytics')),
        'the person’s consent on the laptop',
      );
      await waitFor(async () => (await laptop.getByRole('dialog').count()) === 0, 'no banner on the laptop');
      step('laptop linked by a typed code');

      // Unlinking the phone from the desktop: the phone's next answer is for the device only.
      const pcSection = await devicesSection(pc);
      await waitFor(
        async () => (await pcSection.getByRole('listitem').count()) === 3,
        'three devices on the desktop',
      );
      await pcSection.getByRole('button', { name: 'Unlink Chrome · Android' }).click();
      await pcSection.getByText('Chrome · Android is no longer linked.').waitFor();
      await waitFor(async () => (await pcSection.getByRole('listitem').count()) === 2, 'two devices left');
      const phoneId = await mobile.evaluate(
        () =>
          (window as unknown as { assenso: { get(): { decision: { deviceId: string } } } }).assenso.get()
            .decision.deviceId,
      );
      const phoneDevices = await fetch(`${server.url}/v1/devices?site=demo&device=${phoneId}`);
      expect(await phoneDevices.json()).toEqual({ subjectId: null, devices: [] });
      // The person changes their mind on the desktop: the phone's answer is its own decision, not theirs.
      await pc.evaluate(() => assenso.rejectAll());
      await delivered(pc);
      const phoneState = await fetch(`${server.url}/v1/consent?site=demo&device=${phoneId}`);
      const { decision } = (await phoneState.json()) as {
        decision: { method: string; categories: Record<string, boolean> };
      };
      expect(decision.method).toBe('api');
      expect(decision.categories.analytics).toBe(true);
      await mobile.reload();
      await consent(mobile);
      expect(await mobile.evaluate(() => assenso.has('analytics'))).toBe(true);
      step('phone unlinked from the desktop');

      // A used code is refused with a clear message, next to the input.
      const phoneSection = await devicesSection(mobile);
      const input = phoneSection.getByLabel('Enter a code from another device');
      await input.fill(code);
      await phoneSection.getByRole('button', { name: 'Link this device' }).click();
      await waitFor(async () => (await input.getAttribute('aria-invalid')) === 'true', 'the refusal');
      expect(await input.getAttribute('aria-describedby')).toBe('assenso-ce');
      await expect(
        phoneSection
          .getByText('This code is unknown, expired or already used. Show a new code on your other device.')
          .count(),
      ).resolves.toBeGreaterThan(0);
      expect(await (await fetch(`${server.url}/v1/devices?site=demo&device=${phoneId}`)).json()).toEqual({
        subjectId: null,
        devices: [],
      });
    } finally {
      await pcContext.close();
      await phoneContext.close();
      await laptopContext.close();
    }
  });
});

describe('a pairing link someone else sent (login CSRF)', () => {
  it('links nothing on load: the visitor is asked, and Cancel leaves her subject, devices and consent as they were', {
    timeout: 180_000,
  }, async () => {
    const victimContext = await browser.newContext();
    const attackerContext = await browser.newContext();
    try {
      // She is signed in on this browser (her account's subject), and has refused everything.
      const victim = await victimContext.newPage();
      await signIn(victim, `victim-${randomUUID()}`);
      await victim.evaluate(() => assenso.rejectAll());
      await delivered(victim);
      const before = await serverState(victim);
      expect(before.subjectId).toMatch(/^s_/);
      const own = (await consent(victim)).decision;

      // Someone anonymous asks for a code on their own browser and sends her the pairing link.
      const attacker = await attackerContext.newPage();
      await attacker.goto(`${demoUrl}/en/index.html`);
      await consent(attacker);
      const { code } = await attacker.evaluate(async () => (await assenso.identity()).pairingCode());
      const attackerLinked = () =>
        attacker.evaluate(async () => (await (await assenso.identity()).devices()).subjectId);

      await victim.goto(`${demoUrl}/en/index.html#assenso-pair=${code}`);
      expect(victim.url()).not.toContain(code);
      // Until she is asked, or (what the link did before it asked) the code is claimed on load.
      const asked = victim.getByRole('group', { name: /^Link this browser/ });
      await waitFor(
        async () => (await asked.count()) > 0 || (await attackerLinked()) !== null,
        'the question, or a claim made without one',
        30_000,
      );
      expect(await attackerLinked()).toBeNull();
      const question = await pairingQuestion(victim, code);
      const violations = await axe(victim, { include: 'assenso-consent' });
      expect(violations, formatViolations(violations)).toEqual([]);
      // The section has listed her devices (its requests are done): the code was not claimed meanwhile.
      const section = victim.getByRole('region', { name: 'Your devices' });
      await section.getByText('This browser is not linked to any other yet.').waitFor();
      expect(await attackerLinked()).toBeNull();

      await question.getByRole('button', { name: 'Cancel', exact: true }).click();
      await section.getByText('Nothing was linked. The choices here are this browser’s own.').waitFor();
      expect(await question.count()).toBe(0);
      // Everything as it was, on the server too: her subject, her one device, her decision; theirs unlinked.
      expect(await attackerLinked()).toBeNull();
      expect((await serverState(victim)).subjectId).toBe(before.subjectId);
      // Her devices as the server lists them to her browser: this one alone (no stranger's among them).
      const deviceId = await victim.evaluate(() => assenso.get().decision?.deviceId);
      const listed = await fetch(`${server.url}/v1/devices?site=demo&device=${deviceId}`);
      expect(((await listed.json()) as { devices: unknown[] }).devices).toHaveLength(1);
      expect((await consent(victim)).decision).toEqual(own);
      // Closing and reloading asks nothing again (the code left the URL) and links nothing either.
      await victim.reload();
      await consent(victim);
      expect(await victim.getByRole('group').count()).toBe(0);
      expect(await attackerLinked()).toBeNull();
    } finally {
      await victimContext.close();
      await attackerContext.close();
    }
  });
});

describe('the devices section is fetched only where it can show', () => {
  it('without a receipt server, opening the preference center downloads none of it; with one, it comes', {
    timeout: 60_000,
  }, async () => {
    // The demo as a site without a receipt server: no endpoint in its configuration.
    const bare = await startDemo({
      pages: {
        '/no-server.html': homeWith((c) => {
          delete c.endpoint;
        }, HOME_EN),
      },
    });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const requested: string[] = [];
      page.on('request', (r) => requested.push(new URL(r.url()).pathname));
      await page.goto(`${bare.url}/no-server.html`);
      await consent(page);
      await page.evaluate(() => assenso.open());
      await page.getByRole('dialog', { name: 'Cookie preferences' }).waitFor();
      // Without a receipt server the preference center has no devices section: neither the section's chunks
      // nor the identity API's are fetched.
      await page.waitForTimeout(500);
      expect(requested).toContain('/chunks/prefs.js');
      expect(requested.filter((p) => p.startsWith('/chunks/devices') || p === '/chunks/identity.js')).toEqual(
        [],
      );
      expect(await page.locator('assenso-devices').count()).toBe(0);
      expect(await page.getByRole('region', { name: 'Your devices' }).count()).toBe(0);

      // The same page on a site with a receipt server: the section's chunk is fetched, and it shows.
      requested.length = 0;
      await page.goto(`${demoUrl}/en/index.html`);
      await devicesSection(page);
      expect(requested).toContain('/chunks/devices.js');
    } finally {
      await context.close();
      await bare.close();
    }
  });
});

describe('under the strict CSP with Trusted Types', () => {
  it('the devices section and its QR code draw without a violation', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const watch = await watchPage(page);
      await page.goto(`${cspUrl}/en/index.html`);
      const section = await devicesSection(page);
      const code = await showCode(section);
      const qr = section.getByRole('img', { name: new RegExp(code) });
      await qr.locator('svg path').waitFor({ state: 'attached' });
      expect(watch.cspViolations).toEqual([]);
      expect(realErrors(watch)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
