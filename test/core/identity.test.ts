import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/create.ts';
import { createIdentity, IdentityError, linkedFlag, wasLinked } from '../../src/core/identity.ts';
import { attachIdentity } from '../../src/core/identity-attach.ts';
import type { ConsentStateResponse } from '../../src/protocol/api.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { destroyAll, siteConfig, T0, track } from './helpers.ts';

afterEach(destroyAll);

const endpoint = 'https://consent.test';
const SUBJECT = `s_${'a'.repeat(43)}`;
type Seen = { method: string; path: string; body: Record<string, unknown> | null };

/**
 * The receipt server's identity API as the widget sees it: answers by path, from what the test sets.
 * Receipts are acknowledged (so nothing stays pending) unless `receiptsDown`.
 */
function fakeServer(siteId: string) {
  const seen: Seen[] = [];
  const state = {
    subjectId: SUBJECT as string | null,
    decision: null as ConsentStateResponse['decision'],
    receiptsDown: false,
    /** Runs when a consent question arrives, before it is answered (what the visitor does meanwhile). */
    meanwhile: undefined as (() => void) | undefined,
    identify: { status: 200, problem: null as unknown },
  };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const consent = (deviceId: string): ConsentStateResponse => ({
    siteId,
    deviceId,
    subjectId: state.subjectId,
    decision: state.decision,
  });
  const f = (async (url: string, init: RequestInit = {}) => {
    const u = new URL(url);
    const body = init.body ? (JSON.parse(init.body as string) as Record<string, unknown>) : null;
    seen.push({ method: init.method ?? 'GET', path: u.pathname, body });
    const device = (body?.deviceId as string) ?? u.searchParams.get('device') ?? '';
    switch (u.pathname) {
      case '/v1/receipts': {
        if (state.receiptsDown) throw new TypeError('Failed to fetch');
        const receipts = (body?.receipts ?? []) as Receipt[];
        return json(200, {
          results: receipts.map((r, index) => ({
            index,
            receiptId: r.receiptId,
            status: 201,
            outcome: 'stored',
            signed: {
              receipt: r,
              receivedAt: T0,
              leafHash: 'ab',
              signature: { alg: 'Ed25519', kid: 'k', sig: 's' },
            },
          })),
        });
      }
      case '/v1/identify':
        if (state.identify.status !== 200) return json(state.identify.status, state.identify.problem);
        return json(200, { subjectId: SUBJECT, consent: consent(device) });
      case '/v1/consent':
        state.meanwhile?.();
        return json(200, consent(device));
      case '/v1/pairing/claim':
        return json(200, { subjectId: SUBJECT, consent: consent(device) });
      case '/v1/devices':
        return json(200, { subjectId: state.subjectId, devices: [] });
      case '/v1/pairing':
        return json(201, { code: 'ABCD-EFGH', expiresAt: Date.now() + 300_000 });
      case '/v1/forget':
        return json(200, { unlinked: true });
      default:
        return json(404, { type: 'https://assenso.dev/problems/not-found', title: 'Not found', status: 404 });
    }
  }) as unknown as typeof fetch;
  return { fetch: f, seen, state };
}

function setup() {
  const cfg = siteConfig({ endpoint, revision: '2026-11' });
  const server = fakeServer(cfg.siteId);
  const c = track(createConsent(cfg, { gpc: false, fetch: server.fetch }));
  const flags = new Map<string, string>();
  const storage = {
    getItem: (k: string) => flags.get(k) ?? null,
    setItem: (k: string, v: string) => void flags.set(k, v),
    removeItem: (k: string) => void flags.delete(k),
  };
  const identity = createIdentity(c, {
    fetch: server.fetch,
    flags: storage,
    href: () => 'https://shop.test/account?x=1',
  });
  return { cfg, c, server, identity, storage };
}

const phoneDecision = (over: Partial<NonNullable<ConsentStateResponse['decision']>> = {}) => ({
  revision: '2026-11',
  method: 'accept-all',
  receiptId: '0190d6a0-0000-7000-8000-000000000001',
  // A day ago (no choice lasts past its category's lifetime from the decision).
  decidedAt: Date.now() - 86_400_000,
  receivedAt: Date.now() - 86_400_000 + 5,
  expiresAt: Date.now() + 86_400_000 * 100,
  categories: { necessary: true, analytics: true, marketing: false },
  services: { ga: true },
  updatedAt: { necessary: T0 + 5, analytics: T0 + 5, marketing: T0 + 5 },
  ...over,
});

describe('identity in the widget', () => {
  it('identify sends the device id and token, marks the browser linked and applies the person’s consent without a banner', async () => {
    const { c, server, identity, storage, cfg } = setup();
    await c.start();
    expect(c.getState().view).toBe('banner');
    server.state.decision = phoneDecision();
    const res = await identity.identify('header.payload.sig');
    expect(res.subjectId).toBe(SUBJECT);
    const sent = server.seen.find((s) => s.path === '/v1/identify');
    expect(sent?.body).toEqual({
      siteId: cfg.siteId,
      deviceId: await c.deviceId(),
      token: 'header.payload.sig',
    });
    expect(wasLinked(cfg.siteId, storage)).toBe(true);
    const state = c.getState();
    expect(state.view).toBe('none');
    expect(state.prompt).toBeNull();
    expect(state.decision).toMatchObject({ method: 'sync', receiptId: phoneDecision().receiptId });
    expect(c.has('analytics')).toBe(true);
    expect(c.has('ga')).toBe(true);
    expect(c.has('marketing')).toBe(false);
    // Nothing new was sent as a receipt: the server already holds this decision.
    expect(server.seen.filter((s) => s.path === '/v1/receipts')).toHaveLength(0);
  });

  it('sync applies a newer decision made on another device, and a later local decision chains to it', async () => {
    const { c, server, identity } = setup();
    await c.start();
    await c.acceptAll();
    await c.flush();
    server.state.decision = phoneDecision({
      categories: { necessary: true, analytics: false, marketing: false },
    });
    expect(await identity.sync()).toBe(true);
    expect(c.has('analytics')).toBe(false);
    expect(await identity.sync()).toBe(false); // same receipt: nothing to do
    await c.save({ categories: { marketing: true } });
    const log = await c.receipts();
    const last = [...log.acknowledged.map((s) => s.receipt), ...log.pending].at(-1);
    expect(last?.previousReceiptId).toBe(phoneDecision().receiptId);
  });

  it('keeps a local decision the server has not received yet (it is newer)', async () => {
    const { c, server, identity } = setup();
    await c.start();
    server.state.receiptsDown = true;
    await c.rejectAll();
    server.state.decision = phoneDecision();
    expect(await identity.sync()).toBe(false);
    expect(c.has('analytics')).toBe(false);
    expect(c.getState().decision?.method).toBe('reject-all');
  });

  it('a click made while the answer is on its way wins over it (the e2e pairing race)', async () => {
    const { c, server, identity } = setup();
    await c.start();
    server.state.decision = phoneDecision({
      categories: { necessary: true, analytics: false, marketing: false },
    });
    // The question is on its way when the visitor accepts: the answer cannot know the accept (its receipt is
    // made after the click), and this device's newest decision must stay.
    let accepted: Promise<unknown> | undefined;
    server.state.meanwhile = () => {
      accepted = c.acceptAll();
    };
    expect(await identity.sync()).toBe(false);
    await accepted;
    expect(c.has('analytics')).toBe(true);
    expect(c.getState().decision?.method).toBe('accept-all');
  });

  it('delivers this device’s pending receipts before asking: the answer then includes its newest decision', async () => {
    const { c, server, identity } = setup();
    await c.start();
    server.state.receiptsDown = true;
    await c.rejectAll();
    expect((await c.receipts()).pending).toHaveLength(1);
    server.state.receiptsDown = false;
    await identity.sync();
    const order = server.seen.map((s) => s.path).filter((p) => p === '/v1/receipts' || p === '/v1/consent');
    expect(order.at(-1)).toBe('/v1/consent');
    expect(order.slice(0, -1)).toContain('/v1/receipts');
    expect((await c.receipts()).pending).toHaveLength(0);
  });

  it('does not apply an answer to another policy revision', async () => {
    const { c, server, identity } = setup();
    await c.start();
    server.state.decision = phoneDecision({ revision: '2025-01' });
    expect(await identity.sync()).toBe(false);
    expect(c.getState().view).toBe('banner');
  });

  it('what the answer leaves out (not answered under this revision) stays unanswered: the banner asks about it', async () => {
    const { c, server, identity } = setup();
    await c.start();
    // The phone answered only the video on this revision: analytics and marketing are not in the answer.
    server.state.decision = phoneDecision({ categories: { necessary: true }, services: { yt: true } });
    expect(await identity.sync()).toBe(true);
    const d = c.getState().decision!;
    expect(d.method).toBe('sync');
    expect(d.categories).toEqual({ necessary: true });
    expect(c.getState().prompt).toMatchObject({
      reason: 'first-visit',
      categories: ['analytics', 'marketing'],
    });
    expect(c.getState().view).toBe('banner');
    expect([c.has('yt'), c.has('analytics'), c.has('ga')]).toEqual([true, false, false]);
  });

  it('what the answer leaves out is not read from a polluted Object.prototype (marketing = true)', async () => {
    const { c, server, identity } = setup();
    await c.start();
    server.state.decision = phoneDecision({
      categories: { necessary: true, analytics: true },
      services: { ga: true },
    });
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto.marketing = true;
    try {
      await identity.identify('header.payload.sig');
      expect([c.has('analytics'), c.has('marketing'), c.has('yt')]).toEqual([true, false, false]);
      expect(Object.hasOwn(c.getState().decision!.categories, 'marketing')).toBe(false);
    } finally {
      delete proto.marketing;
    }
  });

  it('a refused token rejects with the problem, and the browser stays unlinked', async () => {
    const { c, server, identity, storage, cfg } = setup();
    await c.start();
    const problem = {
      type: 'https://assenso.dev/problems/token-bad-signature',
      title: 'Token signature invalid',
      status: 401,
    };
    server.state.identify = { status: 401, problem };
    const err = await identity.identify('forged.token.x').catch((e) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect(err.status).toBe(401);
    expect(err.problem.type).toBe(problem.type);
    expect(wasLinked(cfg.siteId, storage)).toBe(false);
    expect(c.getState().decision).toBeNull();
  });

  it('forget unlinks here and there; a server that no longer knows the link clears the flag', async () => {
    const { c, identity, storage, cfg, server } = setup();
    await c.start();
    await identity.identify('a.b.c');
    expect(storage.getItem(linkedFlag(cfg.siteId))).toBe('1');
    expect(await identity.forget()).toEqual({ unlinked: true });
    expect(wasLinked(cfg.siteId, storage)).toBe(false);
    await identity.identify('a.b.c');
    server.state.subjectId = null;
    await identity.sync();
    expect(wasLinked(cfg.siteId, storage)).toBe(false);
  });

  it('claim(code, { apply: false }) links without applying; sync() applies later (the preference center closing)', async () => {
    const { c, server, identity, storage, cfg } = setup();
    await c.start();
    server.state.decision = phoneDecision();
    await identity.claim('ABCD-EFGH', { apply: false });
    expect(server.seen.find((s) => s.path === '/v1/pairing/claim')?.body).toMatchObject({
      code: 'ABCD-EFGH',
    });
    expect(wasLinked(cfg.siteId, storage)).toBe(true);
    expect(c.getState().view).toBe('banner');
    expect(await identity.sync()).toBe(true);
    expect(c.getState().view).toBe('none');
    expect(c.has('analytics')).toBe(true);
  });

  it('devices() tells this browser whether it is linked (the one that showed a code learns it was used)', async () => {
    const { c, server, identity, storage, cfg } = setup();
    await c.start();
    expect(identity.enabled).toBe(true);
    await identity.devices();
    expect(wasLinked(cfg.siteId, storage)).toBe(true);
    server.state.subjectId = null;
    await identity.devices();
    expect(wasLinked(cfg.siteId, storage)).toBe(false);
    // A code shown here may be used after this page is gone: the next load asks (sync), and learns.
    await identity.pairingCode();
    expect(wasLinked(cfg.siteId, storage)).toBe(true);
    await identity.sync();
    expect(wasLinked(cfg.siteId, storage)).toBe(false);
    const offline = createIdentity(track(createConsent(siteConfig({}), { gpc: false })), { flags: storage });
    expect(offline.enabled).toBe(false);
  });

  it('builds the pairing URL on the current page', () => {
    const { identity } = setup();
    expect(identity.pairingUrl('ABCD-EFGH')).toBe('https://shop.test/account?x=1#assenso-pair=ABCD-EFGH');
  });

  it('the device id is stored once and kept by later decisions', async () => {
    const { c } = setup();
    await c.start();
    const id = await c.deviceId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(await c.deviceId()).toBe(id);
    const d = await c.acceptAll();
    expect(d.deviceId).toBe(id);
    await vi.waitFor(async () => expect((await c.receipts()).pending).toHaveLength(0));
  });
});

/** Lets pending requests and timers of the page run (a claim made on load would have left by then). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('a pairing link opened on this page (#assenso-pair=CODE) is asked first', () => {
  // Anyone can ask for a code and send it to anyone: claimed on load, it put the sender's device among the
  // linked devices of whoever opened it (their devices listed, unlinked, their consent read and overridden).
  const claims = (server: ReturnType<typeof fakeServer>) =>
    server.seen.filter((s) => s.path === '/v1/pairing/claim');

  it('the script tag drops the code from the URL and opens the preference center; nothing is claimed', async () => {
    const { c, server } = setup();
    await c.start();
    const before = location.href;
    history.replaceState(history.state, '', `${location.pathname}?x=1#assenso-pair=abcd-efgh`);
    try {
      const identity = createIdentity(c, { fetch: server.fetch });
      attachIdentity(c, async () => ({ createIdentity: () => identity, openEmailLink: async () => false }));
      expect(location.href).not.toContain('efgh');
      await settle();
      expect(claims(server)).toEqual([]);
      expect(c.getState().view).toBe('preferences');
      // The question, with the code as the other device shows it (what the visitor can compare).
      expect(identity.question()).toEqual({ kind: 'pair', code: 'ABCD-EFGH' });
      expect(await identity.answer(false)).toBe(false);
      expect(identity.question()).toBeNull();
      await settle();
      expect(claims(server)).toEqual([]);
    } finally {
      history.replaceState(history.state, '', before);
    }
  });

  it('Link claims the code and applies the person’s consent; Cancel or a new question claims nothing', async () => {
    const { c, server, identity, storage, cfg } = setup();
    await c.start();
    server.state.decision = phoneDecision();
    const cancelled = identity.askToClaim('abcd efgh');
    // Asked again before an answer (a second link): the first question is dropped, as by Cancel.
    const asked = identity.askToClaim('WXYZ-2345');
    expect(await cancelled).toBe(false);
    expect(identity.question()).toEqual({ kind: 'pair', code: 'WXYZ-2345' });
    expect(c.getState().view).toBe('preferences');
    expect(claims(server)).toEqual([]);
    expect(wasLinked(cfg.siteId, storage)).toBe(false);

    expect(await identity.answer(true)).toBe(true);
    expect(await asked).toBe(true);
    expect(claims(server).map((s) => s.body?.code)).toEqual(['WXYZ-2345']);
    expect(wasLinked(cfg.siteId, storage)).toBe(true);
    // Applied at once, in the open preference center (which follows it).
    expect(c.has('analytics')).toBe(true);
    expect(c.getState().view).toBe('preferences');
    // Answered: a second Link (a double click) claims nothing more.
    expect(await identity.answer(true)).toBe(false);
    expect(claims(server)).toHaveLength(1);
  });

  it('a refused claim rejects answer() (the section says why) and resolves the question false', async () => {
    const { c, server, identity } = setup();
    await c.start();
    const fetch = server.fetch;
    const refusing = createIdentity(c, {
      fetch: (async (url: string, init?: RequestInit) =>
        new URL(url).pathname === '/v1/pairing/claim'
          ? new Response(JSON.stringify({ type: 'https://assenso.dev/problems/pairing-code-invalid' }), {
              status: 404,
            })
          : fetch(url, init)) as typeof globalThis.fetch,
    });
    const asked = refusing.askToClaim('ABCD-EFGH');
    // Any identity API of the page sees the one question (the section's is the page's own).
    expect(identity.question()).toEqual({ kind: 'pair', code: 'ABCD-EFGH' });
    await expect(identity.answer(true)).rejects.toMatchObject({ status: 404 });
    expect(await asked).toBe(false);
  });

  it('what cannot be a code is not asked about (the question shows no text of the link’s)', async () => {
    const { c, server, identity } = setup();
    await c.start();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await identity.askToClaim('Call +1 555 0100 to keep your account')).toBe(false);
    expect(identity.question()).toBeNull();
    expect(c.getState().view).toBe('banner');
    expect(warn).toHaveBeenCalledOnce();
    expect(claims(server)).toEqual([]);
    warn.mockRestore();
  });
});
