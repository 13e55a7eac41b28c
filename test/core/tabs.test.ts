import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { destroyAll, gatedScript, manualClock, siteConfig, T0, track } from './helpers.ts';

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
