// Asked again (expiry, a new revision, another tab, another subdomain): what the answer changes and what it
// leaves alone. Each case failed before its fix (a review in Chromium).
import { afterEach, describe, expect, it } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import type { ConsentController } from '../../src/core/types.ts';
import { DAY, destroyAll, manualClock, siteConfig, T0, track } from './helpers.ts';

afterEach(destroyAll);

/** Analytics lasts 30 days, marketing 182. */
const config = () => {
  const cfg = siteConfig();
  cfg.categories[1]!.lifetimeDays = 30;
  return cfg;
};
const make = (cfg: ReturnType<typeof siteConfig>, clock = manualClock(), channel?: string) =>
  track(createConsent(cfg, { clock, gpc: false, channel }));
const asked = (c: ConsentController) => c.getState().prompt?.categories;
const comeBack = () => document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
const tick = () => new Promise((r) => setTimeout(r, 50));

describe('only what expired is asked, and only that is answered', () => {
  it('the banner of an expired category leaves the still valid ones alone (accept, reject, ×)', async () => {
    const cfg = config();
    await make(cfg).save({ categories: { analytics: true, marketing: false } });
    for (const [answer, analytics] of [
      ['acceptAll', true],
      ['rejectAll', false],
      ['close', false],
    ] as const) {
      destroyAll();
      const c = make(cfg, manualClock(T0 + 31 * DAY));
      await c.start();
      expect(asked(c)).toEqual(['analytics']);
      const d = await c[answer](asked(c));
      expect([d.categories.analytics, d.categories.marketing, c.has('marketing')]).toEqual([
        analytics,
        false,
        false,
      ]);
      // The next page starts from the answered decision: the same again for the next answer.
      await make(cfg).save({ categories: { analytics: true, marketing: false } });
    }
  });

  it('without `only` (the preference center, the page API) accept all is all', async () => {
    const cfg = config();
    await make(cfg).save({ categories: { analytics: true, marketing: false } });
    const c = make(cfg, manualClock(T0 + 31 * DAY));
    expect((await c.acceptAll()).categories).toMatchObject({ analytics: true, marketing: true });
  });

  it('× keeps a video allowed on its own before the banner was answered; reject all does not', async () => {
    const cfg = config();
    const c = make(cfg);
    await c.allowService('yt');
    expect((await c.close(asked(c))).services.yt).toBe(true);
    expect(c.has('yt')).toBe(true);
    expect(c.has('marketing')).toBe(false);
    destroyAll();
    const d = make(siteConfig());
    await d.allowService('yt');
    expect((await d.rejectAll(asked(d))).services.yt).toBe(false);
  });

  it('a second service allowed on its own, or another category answered, keeps the first service allowed', async () => {
    const cfg = siteConfig();
    cfg.categories[2]!.services!.push({ id: 'vimeo', name: 'Vimeo' });
    const c = make(cfg);
    await c.allowService('yt');
    const d = await c.allowService('vimeo');
    expect(d.services).toEqual({ yt: true, vimeo: true });
    expect(d.categories).not.toHaveProperty('marketing');
    expect([c.has('yt'), c.has('vimeo'), c.has('marketing')]).toEqual([true, true, false]);
    const e = await c.save({ categories: { analytics: true } });
    expect(e.services).toMatchObject({ yt: true, vimeo: true });
    expect(c.has('yt')).toBe(true);
    // Not past the lifetime it was given: a month later (marketing's 30 days), gone.
    const fresh = siteConfig();
    fresh.categories[2]!.services!.push({ id: 'vimeo', name: 'Vimeo' });
    fresh.categories[2]!.lifetimeDays = 30;
    const clock = manualClock();
    const f = make(fresh, clock);
    await f.allowService('yt');
    clock.advance(31 * DAY);
    const g = await f.allowService('vimeo');
    expect(g.services).toEqual({ vimeo: true });
  });

  it("a service allowed on its own lasts its category's lifetime, not the site's", async () => {
    const cfg = siteConfig();
    cfg.categories[2]!.lifetimeDays = 30;
    const d = await make(cfg).allowService('yt');
    expect(d.expiresAt).toBe(T0 + 30 * DAY);
    destroyAll();
    const later = make(cfg, manualClock(T0 + 31 * DAY));
    await later.start();
    expect(later.has('yt')).toBe(false);
  });

  it('a tab left open: a second expiry while the banner already asks is applied when the visitor comes back', async () => {
    const cfg = config();
    cfg.categories[2]!.lifetimeDays = 60;
    const clock = manualClock();
    const c = make(cfg, clock);
    await c.acceptAll();
    clock.advance(31 * DAY);
    comeBack();
    expect(asked(c)).toEqual(['analytics']);
    expect(c.has('marketing')).toBe(true);
    const changes: unknown[] = [];
    c.on('change', (e) => changes.push(e));
    clock.advance(30 * DAY);
    comeBack();
    expect(asked(c)).toEqual(['analytics', 'marketing']);
    expect(c.has('marketing')).toBe(false);
    // Nothing new: no event.
    comeBack();
    expect(changes).toHaveLength(1);
  });
});

describe('decisions from elsewhere', () => {
  it("a tab on the old revision takes the new revision's refusal: it grants nothing and asks, prefilled", async () => {
    const old = siteConfig();
    const a = make(old);
    await a.acceptAll();
    const b = make({ ...old, revision: '2' });
    await b.start();
    await tick(); // both tabs' channels are open
    await b.rejectAll();
    await tick();
    expect(a.getState().prompt?.reason).toBe('revision');
    expect(a.has('analytics')).toBe(false);
  });

  it('a decision builds on the newest one in the cookie, which a tab on a sibling subdomain wrote', async () => {
    const cfg = siteConfig();
    // Two channels: no message reaches the other tab, as between www. and blog. sharing the cookie's domain.
    const www = make(cfg, manualClock(), 'www');
    await www.acceptAll();
    const blog = make(cfg, manualClock(T0 + 1000), 'blog');
    await blog.rejectAll();
    expect(www.has('analytics')).toBe(true);
    const d = await www.allowService('yt');
    expect(d.categories.analytics).toBe(false);
    expect(www.has('analytics')).toBe(false);
  });

  it('coming back to a tab applies what a sibling subdomain decided meanwhile', async () => {
    const cfg = siteConfig();
    const www = make(cfg, manualClock(), 'www');
    await www.acceptAll();
    await make(cfg, manualClock(T0 + 1000), 'blog').rejectAll();
    comeBack();
    expect(www.has('analytics')).toBe(false);
  });
});
