// A preference link from an email opened on the site (`?assenso=<token>`, src/core/email-link.ts), in
// Chromium with the real controller (IndexedDB, cookie mirror); the receipt server is answered by path as in
// identity.test.ts (the real one runs in e2e/email.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/create.ts';
import { openEmailLink } from '../../src/core/email-link.ts';
import { createIdentity, linkedFlag } from '../../src/core/identity.ts';
import { attachIdentity } from '../../src/core/identity-attach.ts';
import type { ConsentController } from '../../src/core/types.ts';
import type { ConsentStateResponse } from '../../src/protocol/api.ts';
import { DAY, destroyAll, siteConfig, T0, track } from './helpers.ts';

afterEach(() => {
  destroyAll();
  vi.restoreAllMocks();
});

const endpoint = 'https://consent.test';
const SUBJECT = `s_${'b'.repeat(43)}`;
const TOKEN = 'eyJrIjoiazEifQ.bWFj';
type Seen = { method: string; path: string; body: Record<string, unknown> | null };

/** The person's decision on the server (made on another device), valid for 100 days unless overridden. */
const personDecision = (
  over: Partial<NonNullable<ConsentStateResponse['decision']>> = {},
): NonNullable<ConsentStateResponse['decision']> => ({
  revision: '2026-11',
  method: 'preferences',
  receiptId: '0190d6a0-0000-7000-8000-0000000000e1',
  // A day ago (no choice lasts past its category's lifetime from the decision).
  decidedAt: Date.now() - DAY,
  receivedAt: Date.now() - DAY + 5,
  expiresAt: Date.now() + 100 * DAY,
  categories: { necessary: true, analytics: true, marketing: false },
  services: { ga: true, yt: false },
  updatedAt: { necessary: T0 + 5, analytics: T0 + 5, marketing: T0 + 5 },
  ...over,
});

/**
 * `POST /v1/email-link/device` answers `link` (or throws when `down`); the consent is the person's once linked.
 * Receipts are not needed here (404: the outbox keeps them, as with a server without that route).
 */
function fakeServer(siteId: string) {
  const seen: Seen[] = [];
  const state = {
    link: { status: 200, body: { linked: true, moved: false } as unknown },
    down: false,
    linked: false,
    decision: personDecision() as ConsentStateResponse['decision'],
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const f = (async (url: string, init: RequestInit = {}) => {
    const u = new URL(url);
    const body = init.body ? (JSON.parse(init.body as string) as Record<string, unknown>) : null;
    seen.push({ method: init.method ?? 'GET', path: u.pathname, body });
    if (state.down) throw new TypeError('Failed to fetch');
    switch (u.pathname) {
      case '/v1/email-link/device':
        if (state.link.status === 200) state.linked = true;
        return json(state.link.status, state.link.body);
      case '/v1/consent':
        return json(200, {
          siteId,
          deviceId: u.searchParams.get('device') ?? '',
          subjectId: state.linked ? SUBJECT : null,
          decision: state.linked ? state.decision : null,
        } satisfies ConsentStateResponse);
      default:
        return json(404, { type: 'https://assenso.dev/problems/not-found', title: 'Not found', status: 404 });
    }
  }) as unknown as typeof fetch;
  return { fetch: f, seen, state };
}

/** A fresh site (own storage, unique id, so the real localStorage holds its "linked" flag) and its server. */
function setup() {
  const cfg = siteConfig({ endpoint, revision: '2026-11' });
  const server = fakeServer(cfg.siteId);
  const c = track(createConsent(cfg, { gpc: false, fetch: server.fetch }));
  return { cfg, c, server, storage: localStorage, deps: { fetch: server.fetch } };
}

/** The console warnings about the link (a receipt the fake server refuses warns on its own). */
const linkWarnings = (warn: { mock: { calls: unknown[][] } }) =>
  warn.mock.calls.filter((call) => String(call[0]).includes('email link'));

/** Lets pending requests of the page run (an exchange made at once would have left by then). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Opens the link and answers its question as the visitor does in "Your devices": Link. */
async function openAndLink(c: ConsentController, deps: { fetch: typeof fetch }) {
  const opened = openEmailLink(c, TOKEN, deps);
  await createIdentity(c, deps)
    .answer(true)
    .catch(() => {});
  return opened;
}

describe('a preference link opened on the site', () => {
  it('links the device with the token, applies the person’s consent and opens the preference center', async () => {
    const { c, cfg, server, storage, deps } = setup();
    const warn = vi.spyOn(console, 'warn');
    await c.start();
    expect(c.getState().view).toBe('banner');
    expect(await openAndLink(c, deps)).toBe(true);
    expect(server.seen.find((s) => s.path === '/v1/email-link/device')).toEqual({
      method: 'POST',
      path: '/v1/email-link/device',
      body: { site: cfg.siteId, deviceId: await c.deviceId(), token: TOKEN },
    });
    expect(storage.getItem(linkedFlag(cfg.siteId))).toBe('1');
    const state = c.getState();
    expect(state.view).toBe('preferences');
    expect(state.notice).toBeUndefined();
    expect(state.prompt).toBeNull();
    expect(state.decision).toMatchObject({ method: 'sync', receiptId: personDecision().receiptId });
    expect(c.has('analytics')).toBe(true);
    expect(c.has('marketing')).toBe(false);
    expect(linkWarnings(warn)).toEqual([]);
  });

  it.each([
    [
      'an expired token',
      410,
      { type: 'https://assenso.dev/problems/token-expired', title: 'Link expired', status: 410 },
    ],
    [
      'an altered token',
      401,
      { type: 'https://assenso.dev/problems/invalid-token', title: 'Invalid link', status: 401 },
    ],
  ])(
    'with %s: one warning, nothing linked, the device’s own choices in an open preference center',
    async (_, status, problem) => {
      const { c, cfg, server, storage, deps } = setup();
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      await c.start();
      await c.rejectAll();
      server.state.link = { status, body: problem };
      expect(await openAndLink(c, deps)).toBe(false);
      expect(linkWarnings(warn)).toEqual([['[assenso] email link failed:', problem]]);
      expect(storage.getItem(linkedFlag(cfg.siteId))).toBeNull();
      expect(server.seen.some((s) => s.path === '/v1/consent')).toBe(false);
      expect(c.getState().view).toBe('preferences');
      expect(c.getState().notice).toBe('link-failed');
      expect(c.getState().decision?.method).toBe('reject-all');
      // The widget keeps working for this device.
      await c.save({ categories: { analytics: true } });
      expect(c.has('analytics')).toBe(true);
    },
  );

  it('with the server down: one warning, the preference center still opens', async () => {
    const { c, server, deps } = setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await c.start();
    server.state.down = true;
    expect(await openAndLink(c, deps)).toBe(false);
    expect(linkWarnings(warn)).toHaveLength(1);
    expect(String(linkWarnings(warn)[0]?.[1])).toContain('Failed to fetch');
    expect(c.getState().view).toBe('preferences');
    expect(c.getState().notice).toBe('link-failed');
    // Closing the preference center ends the notice; opening it again does not repeat it.
    c.hide();
    c.open();
    expect(c.getState().notice).toBeUndefined();
    expect(c.getState().decision).toBeNull();
  });

  it('links nothing until the visitor chooses Link; Cancel leaves everything as it was', async () => {
    // Someone sends the visitor a link with their own token: linked on load, this browser became theirs (its
    // receipts attached to them, their "accept all" applied here).
    const { c, cfg, server, storage, deps } = setup();
    await c.start();
    const own = await c.rejectAll();
    const opened = openEmailLink(c, TOKEN, deps);
    expect(c.getState().view).toBe('preferences');
    await settle();
    // Asked, not linked: no exchange, no fetch of the person's consent, this browser's own choices shown.
    const asked = () => server.seen.filter((s) => s.path !== '/v1/receipts');
    expect(asked()).toEqual([]);
    expect(createIdentity(c, deps).question()).toEqual({ kind: 'email' });
    expect(c.getState().decision?.receiptId).toBe(own.receiptId);
    await expect(createIdentity(c, deps).answer(false)).resolves.toBe(false);
    expect(await opened).toBe(false);
    await settle();
    expect(asked()).toEqual([]);
    expect(storage.getItem(linkedFlag(cfg.siteId))).toBeNull();
    expect(c.getState().decision?.receiptId).toBe(own.receiptId);
    expect(c.has('analytics')).toBe(false);
    expect(c.getState().view).toBe('preferences');
  });

  it('the script tag drops ?assenso= from the address bar and history before anything else, and hands the token over', async () => {
    const { c } = setup();
    await c.start();
    const before = location.href;
    const length = history.length;
    history.replaceState(history.state, '', `${location.pathname}?x=1&assenso=${TOKEN}&y=2#top`);
    try {
      const opened: Array<[unknown, string]> = [];
      const load = vi.fn(async () => ({
        createIdentity,
        openEmailLink: async (controller: typeof c, token: string) => {
          opened.push([controller, token]);
          return true;
        },
      }));
      attachIdentity(c, load);
      // Synchronously: gone from the URL (the other parameters and the fragment kept), no new history entry.
      expect(location.search).toBe('?x=1&y=2');
      expect(location.hash).toBe('#top');
      expect(location.href).not.toContain(TOKEN);
      expect(history.length).toBe(length);
      await vi.waitFor(() => expect(opened).toEqual([[c, TOKEN]]));
    } finally {
      history.replaceState(history.state, '', before);
    }
  });
});

describe('consent synced from the server never grants past its expiry', () => {
  it('a category whose own expiry has passed is denied and asked again; the others apply', async () => {
    const { c, server, deps } = setup();
    await c.start();
    server.state.linked = true;
    const past = Date.now() - DAY;
    // As an older server would send it: still `true`, but with an expiry in the past.
    server.state.decision = personDecision({
      categories: { necessary: true, analytics: true, marketing: true },
      services: { ga: true, yt: true },
      expiresAt: past,
      expiries: { analytics: past, marketing: Date.now() + 30 * DAY },
    });
    expect(await createIdentity(c, deps).sync()).toBe(true);
    expect(c.has('analytics')).toBe(false);
    expect(c.has('ga')).toBe(false);
    expect(c.has('marketing')).toBe(true);
    expect(c.getState().prompt).toMatchObject({ reason: 'expired', categories: ['analytics'] });
  });

  it('without per-category expiries, a passed `expiresAt` denies every category', async () => {
    const { c, server, deps } = setup();
    await c.start();
    server.state.linked = true;
    server.state.decision = personDecision({ expiresAt: Date.now() - 1000 });
    await createIdentity(c, deps).sync();
    expect(c.has('analytics')).toBe(false);
    expect(c.getState().prompt?.reason).toBe('expired');
  });
});
