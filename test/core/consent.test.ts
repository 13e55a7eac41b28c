import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type Clock,
  createConsent,
  DECISION_FORMAT,
  encodeDecision,
  resolveConfig,
} from '../../src/core/index.ts';
import { createStorage } from '../../src/core/storage.ts';
import { DAY, destroyAll, manualClock, siteConfig, T0, track, setCookie } from './helpers.ts';

afterEach(destroyAll);

const make = (cfg: ReturnType<typeof siteConfig>, clock: Clock = manualClock()) =>
  track(createConsent(cfg, { clock, gpc: false }));

describe('first visit and returning visitor', () => {
  it('asks on a first visit and applies a stored decision synchronously on the next start', async () => {
    const cfg = siteConfig();
    const a = make(cfg);
    expect(a.getState().started).toBe(false);
    await a.start();
    expect(a.getState()).toMatchObject({ view: 'banner', prompt: { reason: 'first-visit', previous: null } });
    expect(a.getState().prompt?.categories).toEqual(['analytics', 'marketing']);
    expect(a.has('necessary')).toBe(true);
    expect(a.has('analytics')).toBe(false);

    const d = await a.acceptAll();
    expect(d).toMatchObject({ method: 'accept-all', format: DECISION_FORMAT, revision: '1', decidedAt: T0 });
    expect(d.categories).toEqual({ necessary: true, analytics: true, marketing: true });
    expect(d.services).toEqual({ ga: true, yt: true });
    expect(d.expiresAt).toBe(T0 + 182 * DAY);
    expect(a.getState()).toMatchObject({ view: 'none', prompt: null });
    expect(document.cookie).toContain(`${cfg.cookie!.name}=`);

    // A new page load: the decision is there before start() resolves (no banner flash).
    const b = make(cfg);
    void b.start();
    expect(b.getState()).toMatchObject({ view: 'none', prompt: null, decision: { receiptId: d.receiptId } });
    expect(b.has('ga')).toBe(true);
  });

  it('close() and rejectAll() keep only the required category', async () => {
    const a = make(siteConfig());
    expect((await a.close()).categories).toEqual({ necessary: true, analytics: false, marketing: false });
    expect(a.getState().decision?.method).toBe('close');
    expect((await a.rejectAll()).method).toBe('reject-all');
    expect(a.has('analytics')).toBe(false);
    expect(a.has('necessary')).toBe(true);
  });

  it('save() sets categories and single services; allowService() grants only that service', async () => {
    const a = make(siteConfig());
    const d = await a.save({ categories: { analytics: true }, services: { ga: false } });
    // On a first visit, what is not named is not answered: no refusal is recorded, and it is asked.
    expect(d).toMatchObject({
      method: 'preferences',
      categories: { analytics: true },
      services: { ga: false },
    });
    expect(d.categories.marketing).toBeUndefined();
    expect(d.services.yt).toBeUndefined();
    expect(a.getState().prompt).toMatchObject({ reason: 'first-visit', categories: ['marketing'] });
    await a.save({ categories: { marketing: false } });
    const e = await a.allowService('yt');
    expect(e.method).toBe('service');
    expect(a.has('yt')).toBe(true);
    expect(a.has('marketing')).toBe(false);
    expect(a.has('analytics')).toBe(true); // kept from before
    expect(a.has('ga')).toBe(false);
    expect(a.has('unknown')).toBe(false);
  });

  it('open/hide switch views and hide() returns to the banner while a prompt is pending', async () => {
    const a = make(siteConfig());
    const views: string[] = [];
    a.on('view', (v) => views.push(v));
    await a.start();
    a.open();
    expect(a.getState().view).toBe('preferences');
    a.hide();
    expect(a.getState().view).toBe('banner');
    await a.acceptAll();
    a.open('preferences');
    a.hide();
    expect(views).toEqual(['banner', 'preferences', 'banner', 'none', 'preferences', 'none']);
  });

  it('reset() forgets the decision and asks again', async () => {
    const cfg = siteConfig();
    const a = make(cfg);
    await a.acceptAll();
    await a.reset();
    expect(a.getState()).toMatchObject({ decision: null, view: 'banner', prompt: { reason: 'first-visit' } });
    expect(document.cookie).not.toContain(`${cfg.cookie!.name}=`);
    const b = make(cfg);
    await b.start();
    expect(b.getState().decision).toBeNull();
  });
});

describe('stale decisions', () => {
  it('a revision bump asks again, says why, prefills, and applies only the required category', async () => {
    const cfg = siteConfig();
    await make(cfg).save({ categories: { analytics: true, marketing: false } });
    const b = make({ ...cfg, revision: '2' });
    await b.start();
    expect(b.getState().prompt).toEqual({
      reason: 'revision',
      categories: ['analytics', 'marketing'],
      previous: {
        categories: { necessary: true, analytics: true, marketing: false },
        services: { ga: true, yt: false },
      },
    });
    expect(b.getState().view).toBe('banner');
    expect(b.has('analytics')).toBe(false);
    const d = await b.acceptAll();
    expect(d.revision).toBe('2');
    expect(b.getState().prompt).toBeNull();
  });

  it('an expired decision asks again (controlled clock)', async () => {
    const cfg = siteConfig();
    const clock = manualClock();
    await make(cfg, clock).acceptAll();
    clock.advance(181 * DAY);
    const b = make(cfg, clock);
    await b.start();
    expect(b.getState().prompt).toBeNull();
    clock.advance(2 * DAY);
    const c = make(cfg, clock);
    await c.start();
    expect(c.getState().prompt).toMatchObject({ reason: 'expired', categories: ['analytics', 'marketing'] });
    expect(c.getState().prompt?.previous?.categories.analytics).toBe(true);
    expect(c.has('analytics')).toBe(false);
  });

  it('a tab left open asks again at the expiry, with no reload', async () => {
    const cfg = siteConfig();
    cfg.categories[1]!.lifetimeDays = 30;
    const clock = manualClock();
    const a = make(cfg, clock);
    await a.acceptAll();
    const changes = vi.fn();
    a.on('change', changes);
    clock.advance(30 * DAY - 1);
    expect(a.getState().prompt).toBeNull();
    clock.advance(1);
    // The analytics category's timer: asked again, no longer granted, and the page is told.
    expect(a.getState()).toMatchObject({
      view: 'banner',
      prompt: { reason: 'expired', categories: ['analytics'] },
    });
    expect(a.has('analytics')).toBe(false);
    expect(a.has('marketing')).toBe(true);
    expect(changes).toHaveBeenCalledOnce();
    // The next timer (timers hold ~24.8 days at most, re-armed until the expiry): marketing, 6 months in.
    clock.advance(152 * DAY);
    expect(a.getState().prompt).toMatchObject({ reason: 'expired', categories: ['analytics', 'marketing'] });
  });

  it('a tab whose timers did not run (a sleeping laptop) asks again when it becomes visible', async () => {
    let now = T0;
    // A clock whose timers never fire.
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
    const a = make(siteConfig(), clock);
    await a.acceptAll();
    now += 183 * DAY;
    expect(a.getState().prompt).toBeNull();
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true })); // as the browser fires it
    expect(a.getState()).toMatchObject({
      view: 'banner',
      prompt: { reason: 'expired', categories: ['analytics', 'marketing'] },
    });
    expect(a.has('analytics')).toBe(false);
  });

  it('when only some categories expired, only those are asked again and the others stay granted', async () => {
    const cfg = siteConfig();
    cfg.categories[1]!.lifetimeDays = 30;
    const clock = manualClock();
    const first = await make(cfg, clock).acceptAll();
    expect(first.expiries).toEqual({ analytics: T0 + 30 * DAY, marketing: T0 + 182 * DAY });
    expect(first.expiresAt).toBe(T0 + 30 * DAY);
    clock.advance(31 * DAY);
    const b = make(cfg, clock);
    await b.start();
    expect(b.getState().prompt).toMatchObject({ reason: 'expired', categories: ['analytics'] });
    expect(b.has('marketing')).toBe(true);
    expect(b.has('yt')).toBe(true);
    expect(b.has('analytics')).toBe(false);
    expect(b.has('ga')).toBe(false);
    const d = await b.save({ categories: { analytics: false } });
    // The answered category gets a fresh lifetime; the other keeps its choice and expiry.
    expect(d.expiries).toEqual({ analytics: T0 + 61 * DAY, marketing: T0 + 182 * DAY });
    expect(d.categories).toEqual({ necessary: true, analytics: false, marketing: true });
    expect(b.getState().prompt).toBeNull();
  });

  it('a category added without a revision bump is asked about on its own, as never answered', async () => {
    const cfg = siteConfig();
    await make(cfg).acceptAll();
    const more = {
      ...cfg,
      categories: [...cfg.categories, { id: 'social', title: 'Social', description: 'x' }],
    };
    const b = make(more);
    await b.start();
    expect(b.getState().prompt).toMatchObject({ reason: 'first-visit', categories: ['social'] });
    expect(b.has('analytics')).toBe(true);
    // With one that expired as well: the banner says what expired.
    const c = make(more, manualClock(T0 + 200 * DAY));
    await c.start();
    expect(c.getState().prompt).toMatchObject({
      reason: 'expired',
      categories: ['analytics', 'marketing', 'social'],
    });
  });
});

describe('stored data that cannot be trusted is no decision', () => {
  const cases: [string, (cfg: ReturnType<typeof siteConfig>) => string][] = [
    ['garbage', () => 'v=1&r=%%%&t=x'],
    ['a newer format', (cfg) => encodeDecision({ ...validDecision(), format: 2 }, resolveConfig(cfg))],
    ['an older format', (cfg) => encodeDecision({ ...validDecision(), format: 0 }, resolveConfig(cfg))],
    [
      'a bad choice value',
      () => 'v=1&r=1&t=1767225600000&x=1800000000000&m=accept-all&id=x&d=y&g=0&c=analytics:yes',
    ],
  ];
  it.each(cases)('cookie holding %s', async (_, value) => {
    const cfg = siteConfig();
    setCookie(`${cfg.cookie!.name}=${value(cfg)}; path=/`);
    const a = make(cfg);
    await a.start();
    expect(a.getState().decision).toBeNull();
    expect(a.getState().prompt?.reason).toBe('first-visit');
    expect(a.has('analytics')).toBe(false);
  });

  it.each([
    ['garbage', 'hello'],
    ['a newer format', { ...validDecision(), format: 2 }],
    ['missing fields', { format: 1, revision: '1', categories: { analytics: true } }],
    ['non-boolean choices', { ...validDecision(), categories: { analytics: 'yes' } }],
  ])('IndexedDB holding %s', async (_, value) => {
    const cfg = siteConfig();
    await createStorage(cfg.siteId).state.set('decision', value);
    const a = make(cfg);
    await a.start();
    expect(a.getState().decision).toBeNull();
    expect(a.has('analytics')).toBe(false);
  });
});

describe('cookie mirror and IndexedDB reconcile', () => {
  it('restores the cookie from IndexedDB when the cookie is gone (e.g. purged by the browser)', async () => {
    const cfg = siteConfig();
    const d = await make(cfg).acceptAll();
    setCookie(`${cfg.cookie!.name}=; max-age=0; path=/`);
    const b = make(cfg);
    const changes = vi.fn();
    b.on('change', changes);
    void b.start();
    expect(b.getState().decision).toBeNull();
    await b.start();
    expect(b.getState().decision?.receiptId).toBe(d.receiptId);
    expect(changes).toHaveBeenCalledWith(expect.objectContaining({ source: 'storage' }));
    expect(document.cookie).toContain(`${cfg.cookie!.name}=`);
  });

  it('keeps a newer cookie decision and writes it to IndexedDB', async () => {
    const cfg = siteConfig();
    const clock = manualClock();
    const a = make(cfg, clock);
    await a.acceptAll();
    const newer = {
      ...validDecision(),
      decidedAt: T0 + 5000,
      categories: { necessary: true, analytics: false, marketing: false },
    };
    setCookie(`${cfg.cookie!.name}=${encodeDecision(newer, resolveConfig(cfg))}; path=/`);
    const b = make(cfg, clock);
    await b.start();
    expect(b.getState().decision?.receiptId).toBe(newer.receiptId);
    expect(await createStorage(cfg.siteId).state.get('decision')).toMatchObject({
      receiptId: newer.receiptId,
    });
  });
});

describe('events', () => {
  it('emits change, dispatches assenso:change, pushes a dataLayer event, and isolates throwing listeners', async () => {
    const a = make(siteConfig());
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const seen: string[] = [];
    a.on('change', () => {
      throw new Error('host bug');
    });
    const off = a.on('change', (e) => seen.push(`${e.source}:${e.decision?.method}`));
    const dom = vi.fn();
    window.addEventListener('assenso:change', dom);
    (window as unknown as { dataLayer: unknown[] }).dataLayer = [];
    await a.acceptAll();
    off();
    await a.rejectAll();
    window.removeEventListener('assenso:change', dom);
    expect(seen).toEqual(['local:accept-all']);
    expect(errors).toHaveBeenCalledWith(expect.stringContaining('[assenso]'), expect.any(Error));
    expect(dom).toHaveBeenCalledTimes(2);
    expect((dom.mock.calls[0]![0] as CustomEvent).detail.granted.categories.analytics).toBe(true);
    const dl = (window as unknown as { dataLayer: Record<string, unknown>[] }).dataLayer;
    expect(dl.map((e) => e.event)).toEqual(['assenso_consent', 'assenso_consent']);
    expect(dl[1]).toMatchObject({ assenso: { method: 'reject-all', categories: { analytics: false } } });
    delete (window as { dataLayer?: unknown }).dataLayer;
    errors.mockRestore();
  });

  it('a page editing the assenso:change detail or the dataLayer push grants nothing (they are copies)', async () => {
    const a = make(siteConfig());
    const edit = (e: Event) =>
      Object.assign((e as CustomEvent).detail.granted.categories, { marketing: true });
    window.addEventListener('assenso:change', edit);
    (window as unknown as { dataLayer: unknown[] }).dataLayer = [];
    try {
      await a.rejectAll();
      const dl = (window as unknown as { dataLayer: { assenso: { services: Record<string, boolean> } }[] })
        .dataLayer;
      dl[0]!.assenso.services.yt = true;
      expect(a.has('marketing')).toBe(false);
      expect(a.has('yt')).toBe(false);
      expect(a.getState().granted.categories.marketing).toBe(false);
    } finally {
      window.removeEventListener('assenso:change', edit);
      delete (window as { dataLayer?: unknown }).dataLayer;
    }
  });
});

function validDecision() {
  return {
    format: 1,
    revision: '1',
    decidedAt: T0,
    expiresAt: T0 + 182 * DAY,
    method: 'accept-all' as const,
    categories: { necessary: true, analytics: true, marketing: true },
    services: { ga: true, yt: true },
    expiries: { analytics: T0 + 182 * DAY, marketing: T0 + 182 * DAY },
    receiptId: crypto.randomUUID(),
    deviceId: '0123456789abcdef0123456789abcdef',
    gpc: false,
  };
}
