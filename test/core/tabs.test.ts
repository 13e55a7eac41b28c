import { afterEach, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { destroyAll, gatedScript, siteConfig, T0, track } from './helpers.ts';

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
