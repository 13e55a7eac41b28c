// A decision's life: what a wrong clock, a lifetime changed in the configuration, a partial answer while the
// banner asks again and a service added since do to it, read from the cookie and from IndexedDB alike. Each
// case failed before its fix (a review in Chromium).
import { afterEach, describe, expect, it } from 'vitest';
import cookieDoc from '../../docs/cookie.md?raw';
import { createConsent } from '../../src/core/index.ts';
import type { AssensoConfig, ConsentController } from '../../src/core/types.ts';
import { DAY, destroyAll, manualClock, setCookie, siteConfig, T0, track } from './helpers.ts';

afterEach(destroyAll);

/** Analytics lasts 182 days (the default), marketing 30. */
const config = () => {
  const cfg = siteConfig();
  cfg.categories[2]!.lifetimeDays = 30;
  return cfg;
};
const make = (cfg: AssensoConfig, at = T0, channel?: string) =>
  track(createConsent(cfg, { clock: manualClock(at), gpc: false, channel }));
const dropCookie = (cfg: AssensoConfig) => setCookie(`${cfg.cookie!.name}=; max-age=0; path=/`);
const hasCookie = (cfg: AssensoConfig) => document.cookie.includes(`${cfg.cookie!.name}=`);
const tick = () => new Promise((r) => setTimeout(r, 50));

/**
 * The next page, as it reads the decision: `cookie` at once from the cookie mirror; `indexeddb` with the cookie
 * gone (Safari ITP), once IndexedDB has been read.
 */
const pages = ['cookie', 'indexeddb'] as const;
async function next(from: (typeof pages)[number], cfg: AssensoConfig, at: number) {
  if (from === 'indexeddb') dropCookie(cfg);
  const c = make(cfg, at);
  const started = c.start();
  if (from === 'indexeddb') await started;
  return c;
}
const asked = (c: ConsentController) => {
  const p = c.getState().prompt;
  return p && { reason: p.reason, categories: p.categories, previous: p.previous?.categories };
};

describe('a decision dated ahead of the clock (the device clock was wrong when deciding)', () => {
  for (const from of pages)
    it(`is no decision, read from ${from}: asked again, nothing granted`, async () => {
      const cfg = config();
      // Decided with the clock 200 days ahead, then corrected: marketing (30 days) would hold for 230.
      await make(cfg, T0 + 200 * DAY).acceptAll();
      destroyAll();
      const c = await next(from, cfg, T0 + 31 * DAY);
      expect(c.getState().decision).toBeNull();
      expect(asked(c)).toMatchObject({ reason: 'first-visit', categories: ['analytics', 'marketing'] });
      expect([c.has('analytics'), c.has('marketing'), c.has('yt')]).toEqual([false, false, false]);
      await c.start();
      expect(c.getState().decision).toBeNull();
      expect(c.has('marketing')).toBe(false);
    });

  it('in IndexedDB: neither applied nor written back to the cookie, page after page', async () => {
    const cfg = config();
    await make(cfg, T0 + 200 * DAY).acceptAll();
    destroyAll();
    dropCookie(cfg);
    for (let i = 0; i < 2; i++) {
      const c = make(cfg, T0 + i * DAY);
      await c.start();
      expect(c.getState().decision).toBeNull();
      expect(hasCookie(cfg)).toBe(false);
      destroyAll();
    }
  });

  it("from another tab: not taken (this tab's clock)", async () => {
    const cfg = config();
    const here = make(cfg, T0, 'tabs');
    await here.start();
    const ahead = make(cfg, T0 + 200 * DAY, 'tabs');
    await ahead.start();
    await tick(); // both channels are open
    await ahead.acceptAll();
    await tick();
    expect(here.getState().decision).toBeNull();
    expect(here.has('analytics')).toBe(false);
  });

  it('a few hours ahead (clocks that differ a little) is still a decision', async () => {
    const cfg = config();
    const d = await make(cfg, T0 + 6 * 3_600_000).acceptAll();
    destroyAll();
    for (const from of pages) {
      const c = await next(from, cfg, T0);
      expect(c.getState().decision?.receiptId).toBe(d.receiptId);
      expect(c.has('marketing')).toBe(true);
      destroyAll();
    }
  });

  it('the answer the visitor gives then is a decision of its own, kept', async () => {
    const cfg = config();
    await make(cfg, T0 + 200 * DAY).acceptAll();
    destroyAll();
    const d = await make(cfg, T0).rejectAll();
    destroyAll();
    for (const from of pages) {
      const c = await next(from, cfg, T0 + DAY);
      expect(c.getState().decision?.receiptId).toBe(d.receiptId);
      expect(asked(c)).toBeNull();
      destroyAll();
    }
  });
});

describe("a category's lifetime changed in the configuration", () => {
  for (const from of pages)
    it(`shortened: applies to decisions already made (read from ${from})`, async () => {
      const cfg = config();
      await make(cfg).acceptAll();
      destroyAll();
      const shorter = { ...cfg, categories: structuredClone(cfg.categories) };
      shorter.categories[1]!.lifetimeDays = 10;
      const c = await next(from, shorter, T0 + 11 * DAY);
      expect(asked(c)).toMatchObject({ reason: 'expired', categories: ['analytics'] });
      expect([c.has('analytics'), c.has('ga'), c.has('marketing'), c.has('yt')]).toEqual([
        false,
        false,
        true,
        true,
      ]);
    });

  it('shortened: a later decision keeps the shortened expiry, not the stored one', async () => {
    const cfg = config();
    await make(cfg).acceptAll();
    destroyAll();
    const shorter = { ...cfg, categories: structuredClone(cfg.categories) };
    shorter.categories[1]!.lifetimeDays = 10;
    const c = make(shorter, T0 + 5 * DAY);
    const d = await c.save({ categories: { marketing: false } });
    expect(d.categories.analytics).toBe(true);
    expect(d.expiries.analytics).toBe(T0 + 10 * DAY);
    destroyAll();
    const later = await next('cookie', shorter, T0 + 11 * DAY);
    expect(later.has('analytics')).toBe(false);
  });

  it('shortened, with the page left open: the timer fires at the new expiry', async () => {
    const cfg = config();
    await make(cfg).acceptAll();
    destroyAll();
    const shorter = { ...cfg, categories: structuredClone(cfg.categories) };
    shorter.categories[1]!.lifetimeDays = 10;
    const clock = manualClock(T0 + 5 * DAY);
    const c = track(createConsent(shorter, { clock, gpc: false }));
    await c.start();
    expect(c.has('analytics')).toBe(true);
    clock.advance(5 * DAY);
    expect(c.has('analytics')).toBe(false);
    expect(asked(c)?.categories).toEqual(['analytics']);
  });

  for (const from of pages)
    it(`lengthened: does not extend decisions already made (read from ${from})`, async () => {
      const cfg = config();
      await make(cfg).acceptAll();
      destroyAll();
      const longer = { ...cfg, categories: structuredClone(cfg.categories) };
      longer.categories[2]!.lifetimeDays = 90;
      const c = await next(from, longer, T0 + 31 * DAY);
      expect(asked(c)).toMatchObject({ reason: 'expired', categories: ['marketing'] });
      expect([c.has('marketing'), c.has('yt'), c.has('analytics')]).toEqual([false, false, true]);
    });
});

describe('a partial decision while the banner asks again keeps the earlier answer of what it asks', () => {
  /** Accepted at T0; 31 days later marketing (30 days) has expired. */
  const expired = async () => {
    const cfg = config();
    await make(cfg).acceptAll();
    destroyAll();
    return { cfg, c: make(cfg, T0 + 31 * DAY) };
  };
  const stillAsked = {
    reason: 'expired',
    categories: ['marketing'],
    previous: { necessary: true, analytics: true, marketing: true },
  };

  it("after an expiry: the page's set() of a service in another category", async () => {
    const { cfg, c } = await expired();
    await c.start();
    expect(asked(c)).toEqual(stillAsked);
    const d = await c.save({ services: { ga: false }, method: 'api' });
    expect(asked(c)).toEqual(stillAsked);
    // The earlier answer, with its past expiry: it counts for no expiry of the new decision.
    expect(d.categories.marketing).toBe(true);
    expect(d.expiries.marketing).toBe(T0 + 30 * DAY);
    expect(d.expiresAt).toBe(T0 + 182 * DAY);
    expect([c.has('marketing'), c.has('yt'), c.has('analytics'), c.has('ga')]).toEqual([
      false,
      false,
      true,
      false,
    ]);
    destroyAll();
    for (const from of pages) {
      const again = await next(from, cfg, T0 + 32 * DAY);
      expect(again.getState().decision?.receiptId).toBe(d.receiptId);
      expect(asked(again)).toEqual(stillAsked);
      expect(again.has('marketing')).toBe(false);
      destroyAll();
    }
  });

  it("after an expiry: a placeholder's Allow grants the service, and the category is still asked", async () => {
    const { cfg, c } = await expired();
    await c.start();
    const d = await c.allowService('yt');
    expect(asked(c)).toEqual(stillAsked);
    expect([c.has('yt'), c.has('marketing')]).toEqual([true, false]);
    // Its own expiry: marketing's lifetime from now.
    expect(d.expiries.yt).toBe(T0 + 61 * DAY);
    destroyAll();
    for (const from of pages) {
      const again = await next(from, cfg, T0 + 32 * DAY);
      expect(asked(again)).toEqual(stillAsked);
      expect([again.has('yt'), again.has('marketing')]).toEqual([true, false]);
      destroyAll();
    }
    // Not past its own lifetime.
    const later = await next('cookie', cfg, T0 + 62 * DAY);
    expect(later.has('yt')).toBe(false);
  });

  it('after an expiry: × keeps the video allowed meanwhile, and refuses the rest of the category', async () => {
    const { c } = await expired();
    await c.start();
    await c.allowService('yt');
    const d = await c.close(c.getState().prompt!.categories);
    expect(d.categories.marketing).toBe(false);
    expect(d.services.yt).toBe(true);
    expect(asked(c)).toBeNull();
    expect([c.has('yt'), c.has('marketing'), c.has('analytics')]).toEqual([true, false, true]);
  });

  it("docs/cookie.md's server sample reads such a cookie as the widget does", async () => {
    const code = cookieDoc.match(/```js\n([\s\S]*?function consentFrom[\s\S]*?)```/)![1]!;
    const consentFrom = new Function(`${code}; return consentFrom;`)() as (...a: unknown[]) => {
      categories: Record<string, boolean>;
      services: Record<string, boolean>;
    };
    const { cfg, c } = await expired();
    await c.start();
    await c.allowService('yt');
    const value = document.cookie
      .split('; ')
      .find((x) => x.startsWith(`${cfg.cookie!.name}=`))!
      .slice(cfg.cookie!.name!.length + 1);
    const read = consentFrom(value, cfg.siteId, '1', { ga: 'analytics', yt: 'marketing' }, T0 + 31 * DAY);
    const { granted } = c.getState();
    expect(read.categories).toEqual(granted.categories);
    expect(read.services).toEqual(granted.services);
    expect(read.services).toEqual({ ga: true, yt: true });
  });

  it('the receipt of such a decision does not record the categories asked again as chosen now', async () => {
    const { c } = await expired();
    await c.start();
    const d = await c.allowService('yt');
    const receipt = (await c.receipts()).pending.find((r) => r.receiptId === d.receiptId)!;
    expect(receipt.categories).toEqual({ necessary: true, analytics: true });
    expect(receipt.services).toEqual({ ga: true, yt: true });
    expect(receipt.expiries).toMatchObject({ analytics: T0 + 182 * DAY, yt: T0 + 61 * DAY });
    expect(receipt.expiries).not.toHaveProperty('marketing');
  });

  it('after a revision change: the earlier choices stay the prefill, and the reason stays', async () => {
    const cfg = config();
    await make(cfg).save({ categories: { analytics: true, marketing: false } });
    destroyAll();
    const revised = { ...cfg, revision: '2' };
    const c = make(revised, T0 + DAY);
    await c.start();
    const before = asked(c);
    expect(before).toEqual({
      reason: 'revision',
      categories: ['analytics', 'marketing'],
      previous: { necessary: true, analytics: true, marketing: false },
    });
    const d = await c.allowService('yt');
    expect(asked(c)).toEqual(before);
    expect([c.has('yt'), c.has('analytics'), c.has('ga'), c.has('marketing')]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(d.expiresAt).toBe(T0 + 31 * DAY);
    // Its receipt records the video alone.
    const receipt = (await c.receipts()).pending.find((r) => r.receiptId === d.receiptId)!;
    expect([receipt.categories, receipt.services]).toEqual([{ necessary: true }, { yt: true }]);
    destroyAll();
    for (const from of pages) {
      const again = await next(from, revised, T0 + 2 * DAY);
      expect(again.getState().decision?.receiptId).toBe(d.receiptId);
      expect(asked(again)).toEqual(before);
      expect([again.has('yt'), again.has('analytics')]).toEqual([true, false]);
      destroyAll();
    }
    // Answered now: a decision of the new revision, fresh.
    const last = make(revised, T0 + 3 * DAY);
    await last.start();
    const e = await last.acceptAll(last.getState().prompt!.categories);
    expect(e.expiries).toMatchObject({ analytics: T0 + 185 * DAY, marketing: T0 + 33 * DAY });
    expect(asked(last)).toBeNull();
    expect(last.has('analytics')).toBe(true);
  });
});

describe('a service added to a category after the decision', () => {
  for (const from of pages)
    it(`follows its category's choice (read from ${from})`, async () => {
      const cfg = config();
      await make(cfg).save({ categories: { analytics: true, marketing: false } });
      destroyAll();
      const more = { ...cfg, categories: structuredClone(cfg.categories) };
      more.categories[1]!.services!.push({ id: 'hotjar', name: 'Hotjar' });
      more.categories[2]!.services!.push({ id: 'vimeo', name: 'Vimeo' });
      const c = await next(from, more, T0 + DAY);
      expect(asked(c)).toBeNull();
      expect([c.has('hotjar'), c.has('vimeo')]).toEqual([true, false]);
    });
});
