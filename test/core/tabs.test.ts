import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { createStorage } from '../../src/core/storage.ts';
import type { AssensoConfig, Decision } from '../../src/core/types.ts';
import { destroyAll, gatedScript, manualClock, setCookie, siteConfig, T0, track } from './helpers.ts';

afterEach(() => {
  destroyAll();
  delete (window as { __tab?: number }).__tab;
});

/** Two started controllers of one site on this page: two tabs (one database, cookie, channel and lock). */
async function twoTabs() {
  const cfg = siteConfig();
  const tabs = [
    track(createConsent(cfg, { gpc: false })),
    track(createConsent(cfg, { gpc: false })),
  ] as const;
  for (const t of tabs) await t.start();
  return tabs;
}

it('a refusal made after an acceptance ranks after it, though the clock was set back in between (NTP)', async () => {
  const cfg = siteConfig();
  let now = T0;
  const clock = {
    now: () => now,
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as number),
  };
  // Tab a accepted while the device clock was 12 hours ahead; the clock was then corrected, and in tab b the
  // visitor rejects all. Every tab (and the next page) must apply the refusal.
  const a = track(createConsent(cfg, { gpc: false, clock: { ...clock, now: () => now + 12 * 3_600_000 } }));
  const b = track(createConsent(cfg, { gpc: false, clock }));
  await a.start();
  await b.start();
  const accepted = await a.acceptAll();
  now += 5000;
  const refused = await b.rejectAll();
  expect(refused.decidedAt).toBeGreaterThan(accepted.decidedAt);
  await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(refused.receiptId));
  expect(a.has('analytics')).toBe(false);
  destroyAll();
  const next = track(createConsent(cfg, { gpc: false, clock }));
  await next.start();
  expect(next.getState().decision?.receiptId).toBe(refused.receiptId);
  expect(next.has('analytics')).toBe(false);
});

it('a decision in one tab applies in the others without reload, gated scripts included', async () => {
  const [a, b] = await twoTabs();
  const s = gatedScript('analytics', 'window.__tab = (window.__tab || 0) + 1');
  const changes = vi.fn();
  b.on('change', changes);
  const d = await a.acceptAll();
  await vi.waitFor(() => expect(b.getState().decision?.receiptId).toBe(d.receiptId));
  expect(b.has('analytics')).toBe(true);
  expect(b.getState().view).toBe('none');
  expect(changes).toHaveBeenCalledWith(expect.objectContaining({ source: 'tab' }));
  expect((window as { __tab?: number }).__tab).toBe(1); // once, though both controllers watch this page

  await b.rejectAll();
  await vi.waitFor(() => expect(a.has('analytics')).toBe(false));
  await a.reset();
  await vi.waitFor(() => expect(b.getState().prompt?.reason).toBe('first-visit'));
  // The next decision in b chains to a's receipts (shared device record).
  const e = await b.acceptAll();
  const pending = (await b.receipts()).pending;
  expect(pending.at(-1)).toMatchObject({ receiptId: e.receiptId, deviceId: d.deviceId });
  expect(pending.at(-1)!.previousReceiptId).toBe(pending.at(-2)!.receiptId);
  s.remove();
});

it('two tabs deciding in the same instant chain their receipts, one after the other', async () => {
  const [a, b] = await twoTabs();
  const [x, y] = await Promise.all([a.acceptAll(), b.rejectAll()]);
  await vi.waitFor(async () => expect((await a.receipts()).pending).toHaveLength(2));
  const chain = Object.fromEntries(
    (await a.receipts()).pending.map((r) => [r.receiptId, r.previousReceiptId]),
  );
  // One of them first (no previous receipt), the other made on top of it: no fork.
  const [first, last] = chain[x.receiptId] === null ? [x, y] : [y, x];
  expect(chain[first.receiptId]).toBeNull();
  expect(chain[last.receiptId]).toBe(first.receiptId);
  // Both tabs end with the one made last.
  await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(last.receiptId));
  await vi.waitFor(() => expect(b.getState().decision?.receiptId).toBe(last.receiptId));
});

const tick = () => new Promise((r) => setTimeout(r, 50));

it('a tab on the old revision drops what the visitor refused on the new one, and builds on that refusal', async () => {
  const old = siteConfig();
  const a = track(createConsent(old, { gpc: false }));
  await a.acceptAll();
  const revoke = vi.fn();
  a.on('revoke', revoke);
  const b = track(createConsent({ ...old, revision: '2' }, { gpc: false }));
  await b.start();
  await tick(); // both tabs' channels are open
  const refused = await b.rejectAll();
  await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(refused.receiptId));
  // Nothing granted, asked again about the old policy, prefilled with the refusal; withdrawn as any refusal.
  expect([a.has('analytics'), a.has('ga'), a.has('marketing')]).toEqual([false, false, false]);
  expect(a.getState().prompt).toMatchObject({
    reason: 'revision',
    previous: { categories: { analytics: false, marketing: false } },
  });
  expect(revoke).toHaveBeenCalledWith({ categories: ['analytics', 'marketing'], services: ['ga', 'yt'] });
  // A placeholder's "Allow" there: after the refusal, and on it (no acceptance of the old revision again).
  const d = await a.allowService('yt');
  expect(d.decidedAt).toBeGreaterThan(refused.decidedAt);
  expect(d).toMatchObject({
    categories: { analytics: false, marketing: false },
    services: { ga: false, yt: true },
  });
  expect([a.has('analytics'), a.has('yt')]).toEqual([false, true]);
  const receipt = (await a.receipts()).pending.at(-1)!;
  expect([receipt.receiptId, receipt.categories.analytics]).toEqual([d.receiptId, undefined]);
});

it('an old-revision tab that heard nothing (another subdomain) reads the newer decision before its own', async () => {
  const old = siteConfig();
  // Two channels: no message, as between www. and blog. sharing the cookie's domain.
  const a = track(createConsent(old, { gpc: false, channel: 'www' }));
  await a.acceptAll();
  const b = track(createConsent({ ...old, revision: '2' }, { gpc: false, channel: 'blog' }));
  const refused = await b.rejectAll();
  expect(a.has('analytics')).toBe(true);
  const d = await a.save({ services: { ga: false } });
  expect(d.decidedAt).toBeGreaterThan(refused.decidedAt);
  expect(d.categories).toMatchObject({ analytics: false, marketing: false });
  expect([a.has('analytics'), a.has('marketing')]).toEqual([false, false]);
});

it('tabs on two revisions move each other only by the visitor’s answers, never back and forth', async () => {
  const old = siteConfig();
  const a = track(createConsent(old, { gpc: false }));
  await a.acceptAll();
  const b = track(createConsent({ ...old, revision: '2' }, { gpc: false }));
  await b.start();
  await tick();
  const [decisions, revokedA, revokedB] = [vi.fn(), vi.fn(), vi.fn()];
  for (const t of [a, b]) t.on('queued', decisions);
  a.on('revoke', revokedA);
  b.on('revoke', revokedB);
  const accepted = await b.acceptAll();
  await vi.waitFor(() => expect(a.getState().prompt?.reason).toBe('revision'));
  await tick();
  // Accepted on the new policy: granted there, asked here, and nothing withdrawn (the cookies are that tab's too).
  expect(a.has('analytics')).toBe(false);
  expect(revokedA).not.toHaveBeenCalled();
  expect([b.getState().prompt, b.getState().decision?.receiptId]).toEqual([null, accepted.receiptId]);
  // Refused on the old one: the new tab asks again, and withdraws.
  const answered = await a.rejectAll();
  await vi.waitFor(() => expect(b.getState().decision?.receiptId).toBe(answered.receiptId));
  expect(b.getState().prompt?.reason).toBe('revision');
  expect(revokedB).toHaveBeenCalledWith({ categories: ['analytics', 'marketing'], services: ['ga', 'yt'] });
  await tick();
  expect([a.getState().prompt, a.getState().decision?.receiptId]).toEqual([null, answered.receiptId]);
  expect(decisions).toHaveBeenCalledTimes(2);
});

describe('an answer in a tab still on the old policy, once the visitor answered the new one', () => {
  /**
   * Tabs `a` (and `a2`) opened before the site changed its revision, `b` after: the visitor answered `b`'s
   * banner, so the old tabs ask again about their policy. `channel` apart for each: tabs on sibling subdomains.
   */
  async function revisions(newer: (b: ReturnType<typeof createConsent>) => Promise<Decision>, apart = false) {
    const old = siteConfig();
    const cfg = { ...old, revision: '2' };
    const on = (c: AssensoConfig, channel: string) =>
      track(createConsent(c, { gpc: false, channel: apart ? `${old.siteId}-${channel}` : undefined }));
    const a = on(old, 'www');
    await a.rejectAll();
    const a2 = on(old, 'www');
    const b = on(cfg, 'blog');
    await Promise.all([a2.start(), b.start()]);
    await tick(); // the channels are open
    const answered = await newer(b);
    if (!apart) await vi.waitFor(() => expect(a.getState().prompt?.reason).toBe('revision'));
    return { cfg, a, a2, b, answered };
  }
  /** The decision the next page (on the new policy) reads, from the cookie and from IndexedDB. */
  async function stored(cfg: AssensoConfig) {
    const next = track(createConsent(cfg, { gpc: false, channel: 'next' }));
    void next.start();
    const idb = await createStorage(cfg.siteId).state.get<Decision>('decision');
    return {
      cookie: next.getState().decision?.receiptId,
      idb: idb?.receiptId,
      prompt: next.getState().prompt,
    };
  }

  it('does not replace the newer decision (cookie, IndexedDB, the new tab, the next page); its receipt records it', async () => {
    const { cfg, a, a2, b, answered } = await revisions((b) => b.rejectAll());
    const old = await a.acceptAll();
    // Answered on that page's notice: it applies there, and in the other tab on the same policy.
    expect([a.has('analytics'), a.getState().prompt]).toEqual([true, null]);
    await vi.waitFor(() => expect(a2.getState().decision?.receiptId).toBe(old.receiptId));
    expect(a2.has('analytics')).toBe(true);
    await tick();
    expect(b.getState().decision?.receiptId).toBe(answered.receiptId);
    expect([b.has('analytics'), b.getState().prompt]).toEqual([false, null]);
    expect(await stored(cfg)).toEqual({ cookie: answered.receiptId, idb: answered.receiptId, prompt: null });
    // The receipt: what the visitor chose, on the old notice, in the device's chain; the next one follows it.
    const log = (await b.receipts()).pending;
    expect(log.at(-1)).toMatchObject({
      receiptId: old.receiptId,
      revision: '1',
      method: 'accept-all',
      previousReceiptId: answered.receiptId,
      categories: { analytics: true, marketing: true },
    });
    const notice = await a.notice();
    expect(notice.revision).toBe('1');
    const next = await b.save({ categories: { analytics: true } });
    await vi.waitFor(async () =>
      expect((await b.receipts()).pending.at(-1)).toMatchObject({
        receiptId: next.receiptId,
        previousReceiptId: old.receiptId,
      }),
    );
    // The old tabs ask again about the new tab's answer (theirs is not in force elsewhere).
    await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(next.receiptId));
    expect(a.getState().prompt?.reason).toBe('revision');
  });

  it('the new policy’s tab still stores its answer over one given since on the old policy (it replaced that one)', async () => {
    const old = siteConfig();
    const cfg = { ...old, revision: '2' };
    const a = track(createConsent(old, { gpc: false }));
    await a.acceptAll();
    const b = track(createConsent(cfg, { gpc: false }));
    await b.start();
    await tick();
    // The visitor changes their mind in the old tab first (its preference center), then answers the new banner.
    const since = await a.rejectAll();
    await vi.waitFor(() => expect(b.getState().decision?.receiptId).toBe(since.receiptId));
    const answered = await b.acceptAll();
    expect(await stored(cfg)).toEqual({ cookie: answered.receiptId, idb: answered.receiptId, prompt: null });
    await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(answered.receiptId));
  });

  it('nor on a sibling subdomain (no message: the cookie tells it)', async () => {
    const { cfg, a, answered } = await revisions((b) => b.rejectAll(), true);
    const old = await a.save({ categories: { analytics: true } });
    expect(old.decidedAt).toBeGreaterThan(answered.decidedAt);
    expect(a.has('analytics')).toBe(true);
    expect(await stored(cfg)).toEqual({ cookie: answered.receiptId, idb: answered.receiptId, prompt: null });
  });

  it('withdraws nothing the newer decision allows (its cookies stay)', async () => {
    const { a, answered } = await revisions((b) => b.save({ categories: { analytics: true } }));
    expect(answered.categories.analytics).toBe(true);
    setCookie('_ga_x=1; path=/');
    onTestFinished(() => setCookie('_ga_x=; max-age=0; path=/'));
    const revoke = vi.fn();
    a.on('revoke', revoke);
    // A placeholder's "Allow" there: analytics is still asked there, but allowed where the new policy is shown.
    await a.allowService('yt');
    expect([a.has('yt'), a.has('analytics')]).toEqual([true, false]);
    await tick();
    expect(revoke).not.toHaveBeenCalled();
    expect(document.cookie).toContain('_ga_x=1');
  });

  it('what it refuses of the newer decision is withdrawn everywhere: it replaces it, and the new policy asks', async () => {
    const { cfg, a, b } = await revisions((b) => b.acceptAll());
    const refused = await a.save({ categories: { analytics: false } });
    await vi.waitFor(() => expect(b.getState().decision?.receiptId).toBe(refused.receiptId));
    expect([b.has('analytics'), b.has('marketing'), b.getState().prompt?.reason]).toEqual([
      false,
      false,
      'revision',
    ]);
    expect(await stored(cfg)).toMatchObject({
      cookie: refused.receiptId,
      idb: refused.receiptId,
      prompt: { reason: 'revision', previous: { categories: { analytics: false } } },
    });
  });
});

describe('a reset ranks with decisions', () => {
  const tabsAt = (clock: ReturnType<typeof manualClock>, channels = ['', '']) => {
    const cfg = siteConfig();
    const tabs = channels.map((ch) =>
      track(createConsent(cfg, { gpc: false, clock, channel: ch ? `${cfg.siteId}-${ch}` : undefined })),
    );
    return { cfg, a: tabs[0]!, b: tabs[1]! };
  };

  it('waits for a decision another tab is making (the Web Lock), as decisions do', async () => {
    const { cfg, a } = tabsAt(manualClock());
    await a.acceptAll();
    let release!: () => void;
    await new Promise<void>((got) =>
      navigator.locks.request(`assenso:${cfg.siteId}`, () => {
        got();
        return new Promise<void>((r) => (release = r));
      }),
    );
    const done = a.reset();
    await tick();
    expect(a.getState().decision).not.toBeNull();
    release();
    await done;
    expect(a.getState().decision).toBeNull();
  });

  it('a tab keeps a decision made after the reset, whose message came first', async () => {
    const { cfg, a, b } = tabsAt(manualClock());
    await Promise.all([a.start(), b.start()]);
    await tick();
    const d = await b.acceptAll();
    await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(d.receiptId));
    const bc = new BroadcastChannel(`assenso:${cfg.siteId}`);
    bc.postMessage({ type: 'reset', at: d.decidedAt - 1 });
    await tick();
    bc.close();
    expect([a, b].map((t) => t.getState().decision?.receiptId)).toEqual([d.receiptId, d.receiptId]);
  });

  it("the resetting tab drops a decision made before it, heard after it (the cookie's, in the same ms)", async () => {
    // Two channels: b's message is late (here it never comes on its own).
    const { cfg, a, b } = tabsAt(manualClock(), ['x', 'y']);
    await a.start();
    const d = await b.acceptAll();
    await a.reset();
    new BroadcastChannel(`assenso:${cfg.siteId}-x`).postMessage({ type: 'decision', decision: d });
    await tick();
    expect(a.getState().decision).toBeNull();
  });

  it('a decision made after a reset heard from another tab is dated after it, and every tab takes it', async () => {
    const { cfg, a, b } = tabsAt(manualClock());
    await a.acceptAll();
    await b.start();
    await tick();
    // A reset whose time is ahead of this clock (dated after a decision dated ahead of it, decide()).
    const bc = new BroadcastChannel(`assenso:${cfg.siteId}`);
    bc.postMessage({ type: 'reset', at: T0 + 5000 });
    await vi.waitFor(() => expect(b.getState().decision).toBeNull());
    bc.close();
    const d = await b.acceptAll();
    expect(d.decidedAt).toBeGreaterThanOrEqual(T0 + 5000);
    await vi.waitFor(() => expect(a.getState().decision?.receiptId).toBe(d.receiptId));
  });
});
