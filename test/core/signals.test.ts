import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { destroyAll, gatedScript, setCookie, siteConfig, track } from './helpers.ts';

type W = { dataLayer?: unknown[]; gtag?: unknown };
const w = window as unknown as W;
afterEach(() => {
  destroyAll();
  delete w.dataLayer;
  delete w.gtag;
});

/** gtag() commands in the dataLayer, as arrays (they are pushed as Arguments objects). */
const commands = () =>
  (w.dataLayer ?? [])
    .filter((e) => Object.prototype.toString.call(e) === '[object Arguments]')
    .map((e) => [...(e as IArguments)]);

const denied = {
  ad_storage: 'denied',
  ad_user_data: 'denied',
  ad_personalization: 'denied',
  analytics_storage: 'denied',
  functionality_storage: 'denied',
  personalization_storage: 'denied',
  security_storage: 'granted',
};

describe('Google Consent Mode v2', () => {
  it('pushes consent default (denied, wait_for_update) at start, then an update on every decision', async () => {
    const c = track(createConsent(siteConfig({ consentMode: true }), { gpc: false }));
    void c.start();
    expect(commands()).toEqual([['consent', 'default', { ...denied, wait_for_update: 500 }]]);
    await c.save({ categories: { analytics: true } });
    await c.rejectAll();
    expect(commands()).toEqual([
      ['consent', 'default', { ...denied, wait_for_update: 500 }],
      ['consent', 'update', { ...denied, analytics_storage: 'granted' }],
      ['consent', 'update', denied],
    ]);
    // The dataLayer event follows each update.
    const events = (w.dataLayer ?? []).map((e) => (e as { event?: string }).event ?? 'gtag');
    expect(events).toEqual(['gtag', 'gtag', 'assenso_consent', 'gtag', 'assenso_consent']);
  });

  it('a returning visitor gets default then update synchronously, before any tag; custom mapping and page gtag', async () => {
    const cfg = siteConfig({
      consentMode: {
        mapping: { ad_storage: ['marketing', 'analytics'], functionality_storage: ['necessary'] },
        waitForUpdate: 0,
      },
    });
    await track(createConsent(cfg, { gpc: false })).save({
      categories: { analytics: true, marketing: false },
    });
    destroyAll();
    delete w.dataLayer;
    const calls: unknown[][] = [];
    w.gtag = (...a: unknown[]) => calls.push(a);
    void track(createConsent(cfg, { gpc: false })).start();
    expect(calls).toEqual([
      ['consent', 'default', { ...denied, functionality_storage: 'granted', wait_for_update: 0 }],
      ['consent', 'update', { ...denied, analytics_storage: 'granted', functionality_storage: 'granted' }],
    ]);
  });

  it('boot() sends default alone, before the decision is read; start() then adds the update, not a second default', async () => {
    const cfg = siteConfig({ consentMode: true });
    await track(createConsent(cfg, { gpc: false })).save({ categories: { analytics: true } });
    destroyAll();
    delete w.dataLayer;
    const c = track(createConsent(cfg, { gpc: false }));
    c.boot();
    c.boot();
    expect(commands()).toEqual([['consent', 'default', { ...denied, wait_for_update: 500 }]]);
    expect(c.getState()).toMatchObject({ started: false, decision: null });
    void c.start();
    expect(commands()).toEqual([
      ['consent', 'default', { ...denied, wait_for_update: 500 }],
      ['consent', 'update', { ...denied, analytics_storage: 'granted' }],
    ]);
    expect(c.has('analytics')).toBe(true);
  });

  it('adsDataRedaction and urlPassthrough: gtag set commands right after the default, before the update', async () => {
    const cfg = siteConfig({ consentMode: { adsDataRedaction: true, urlPassthrough: true } });
    await track(createConsent(cfg, { gpc: false })).save({ categories: { analytics: true } });
    destroyAll();
    delete w.dataLayer;
    void track(createConsent(cfg, { gpc: false })).start();
    expect(commands()).toEqual([
      ['consent', 'default', { ...denied, wait_for_update: 500 }],
      ['set', 'ads_data_redaction', true],
      ['set', 'url_passthrough', true],
      ['consent', 'update', { ...denied, analytics_storage: 'granted' }],
    ]);
    destroyAll();
    delete w.dataLayer;
    // Only the one asked for; none with `consentMode: true`.
    void track(createConsent(siteConfig({ consentMode: { urlPassthrough: true } }), { gpc: false })).boot();
    expect(commands().filter((c) => c[0] === 'set')).toEqual([['set', 'url_passthrough', true]]);
    destroyAll();
    delete w.dataLayer;
    track(createConsent(siteConfig({ consentMode: true }), { gpc: false })).boot();
    expect(commands().filter((c) => c[0] === 'set')).toEqual([]);
  });

  it("sends the update before the gated scripts it allows run (a first decision and a returning visitor's start)", async () => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-assenso', 'analytics');
    s.text = "window.dataLayer.push('gated ran')";
    document.body.append(s);
    try {
      const cfg = siteConfig({ consentMode: true });
      await track(createConsent(cfg, { gpc: false })).save({ categories: { analytics: true } });
      const names = () =>
        (w.dataLayer ?? []).map((e) =>
          typeof e === 'string' ? e : ((e as { event?: string }).event ?? [...(e as IArguments)][1]),
        );
      expect(names()).toEqual(['default', 'update', 'gated ran', 'assenso_consent']);
      destroyAll();
      delete w.dataLayer;
      document.querySelector('script[data-assenso="analytics"]')?.remove();
      const again = document.createElement('script');
      again.type = 'text/plain';
      again.setAttribute('data-assenso', 'analytics');
      again.text = "window.dataLayer.push('gated ran')";
      document.body.append(again);
      void track(createConsent(cfg, { gpc: false })).start();
      expect(names()).toEqual(['default', 'update', 'gated ran', 'assenso_consent']);
    } finally {
      for (const el of document.querySelectorAll('script[data-assenso]')) el.remove();
    }
  });

  it('a type mapped to no category is granted from the default on; one naming no category of the site never', async () => {
    const cfg = siteConfig({
      consentMode: { mapping: { functionality_storage: [], personalization_storage: ['Functional'] } },
    });
    const c = track(createConsent(cfg, { gpc: false }));
    await c.acceptAll();
    const [def, update] = commands().map((x) => x[2] as Record<string, string>);
    expect(def).toMatchObject({ functionality_storage: 'granted', personalization_storage: 'denied' });
    expect(update).toMatchObject({
      functionality_storage: 'granted',
      personalization_storage: 'denied',
      analytics_storage: 'granted',
    });
  });

  it('a type mapped only to the required category is granted from the default on, before any decision', async () => {
    const cfg = siteConfig({
      consentMode: {
        mapping: { security_storage: ['necessary'], functionality_storage: ['necessary', 'analytics'] },
      },
    });
    const c = track(createConsent(cfg, { gpc: false }));
    void c.start();
    expect(commands()[0]?.[2]).toMatchObject({
      security_storage: 'granted',
      functionality_storage: 'denied',
    });
    await c.rejectAll();
    expect(commands()[1]?.[2]).toMatchObject({
      security_storage: 'granted',
      functionality_storage: 'denied',
    });
    await c.acceptAll();
    expect(commands()[2]?.[2]).toMatchObject({
      security_storage: 'granted',
      functionality_storage: 'granted',
    });
  });

  it("an async tag after the page's Google snippet: the default goes in front of what the page queued", async () => {
    // The snippet ran first (it is inline, above); Google's tag has not loaded: the dataLayer is a plain array.
    w.dataLayer = [];
    const gtag = function (..._: unknown[]) {
      // biome-ignore lint/complexity/noArguments: as Google's snippet
      w.dataLayer!.push(arguments);
    };
    w.gtag = gtag;
    gtag('js', 1);
    gtag('config', 'G-TEST');
    w.dataLayer.push({ 'gtm.start': 1, event: 'gtm.js' });
    const cfg = siteConfig({ consentMode: { urlPassthrough: true } });
    void track(createConsent(cfg, { gpc: false })).start();
    const names = () =>
      w.dataLayer!.map(
        (e) => (e as { event?: string }).event ?? [...(e as IArguments)].slice(0, 2).join(' '),
      );
    expect(names()).toEqual(['consent default', 'set url_passthrough', 'js 1', 'config G-TEST', 'gtm.js']);
    destroyAll();
    // Google's tag already loaded (its own push): too late to be first; said, and sent all the same.
    w.dataLayer = [];
    w.dataLayer.push = function (this: unknown[], ...items: unknown[]) {
      return Array.prototype.push.apply(this, items);
    };
    w.dataLayer.push({ event: 'gtm.js' });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    void track(createConsent(cfg, { gpc: false })).start();
    expect(names()).toEqual(['gtm.js', 'consent default', 'set url_passthrough']);
    expect(warn.mock.calls.map((x) => x[0])).toEqual([
      "[assenso] Consent Mode: Google's tag ran before the consent default; load assenso.js before it, without async",
    ]);
    warn.mockRestore();
  });

  it("a page's gtag or dataLayer that throws is reported; start-up and decisions go on", async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const cfg = siteConfig({ consentMode: true });
    w.gtag = () => {
      throw new Error('gtag boom');
    };
    w.dataLayer = [];
    w.dataLayer.push = () => {
      throw new Error('dataLayer boom');
    };
    const code = 'window.__gated = (window.__gated || 0) + 1';
    const s = gatedScript('analytics', code);
    const ready = vi.fn();
    try {
      const c = track(createConsent(cfg, { gpc: false }));
      c.on('ready', ready);
      await c.start();
      expect(ready).toHaveBeenCalledOnce();
      const d = await c.acceptAll();
      expect(d.categories.analytics).toBe(true);
      expect((window as { __gated?: number }).__gated).toBe(1);
      // A returning visitor: the stored decision applies, the gated script runs, the page hears `ready`.
      destroyAll();
      s.remove();
      // (Not a copy of `s`: that one is live now, and so would its copy be.)
      gatedScript('analytics', code);
      const b = track(createConsent(cfg, { gpc: false }));
      b.on('ready', ready);
      void b.start();
      expect(ready).toHaveBeenCalledTimes(2);
      expect(b.has('analytics')).toBe(true);
      expect((window as { __gated?: number }).__gated).toBe(2);
      gatedScript('analytics', code);
      await vi.waitFor(() => expect((window as { __gated?: number }).__gated).toBe(3));
      expect(errors.mock.calls.map((x) => x[0])).toContain("[assenso] the page's gtag() or dataLayer threw:");
      expect(errors.mock.calls.map((x) => x[0])).toContain("[assenso] the page's dataLayer threw:");
    } finally {
      for (const el of document.querySelectorAll('script[data-assenso]')) el.remove();
      delete (window as { __gated?: number }).__gated;
      errors.mockRestore();
    }
  });

  it('is off unless configured', async () => {
    await track(createConsent(siteConfig(), { gpc: false })).acceptAll();
    expect(w.dataLayer).toBeUndefined();
  });
});

describe('Global Privacy Control', () => {
  it('denies the categories that honour it, says so in the state, and accept-all keeps them denied', async () => {
    const c = track(createConsent(siteConfig(), { gpc: true }));
    await c.start();
    expect(c.getState().gpc).toEqual({ active: true, categories: ['marketing'] });
    expect(c.getState().prompt?.reason).toBe('first-visit');
    const d = await c.acceptAll();
    expect(d).toMatchObject({ gpc: true, categories: { analytics: true, marketing: false } });
    expect(c.has('marketing')).toBe(false);
    expect(c.has('yt')).toBe(false);
    // An explicit, specific choice by the visitor still counts.
    await c.save({ categories: { marketing: true } });
    expect(c.has('marketing')).toBe(true);
    expect((await c.receipts()).pending.map((r) => r.gpc)).toEqual([true, true]);
  });

  it('overrides an earlier decision made without GPC, and withdraws what it granted: revoke, cookies cleared', async () => {
    const cfg = siteConfig();
    cfg.categories[2]!.services![0]!.cookies = [{ name: '_yt_id' }];
    await track(createConsent(cfg, { gpc: false })).acceptAll();
    setCookie('_yt_id=1; path=/');
    setCookie('_ga=1; path=/');
    const revoke = vi.fn();
    const c = track(createConsent(cfg, { gpc: true }));
    c.on('revoke', revoke);
    await c.start();
    expect(c.has('marketing')).toBe(false);
    expect(c.has('analytics')).toBe(true);
    expect(c.getState().prompt).toBeNull();
    // No banner asks about it, so no later decision would clean up: done now.
    expect(revoke).toHaveBeenCalledWith({ categories: ['marketing'], services: ['yt'] });
    await vi.waitFor(() => expect(document.cookie).not.toContain('_yt_id'));
    expect(document.cookie).toContain('_ga=1');
    // And recorded: a receipt of the withdrawal (method gpc), once; the other choices stay.
    await vi.waitFor(async () => expect((await c.receipts()).pending).toHaveLength(2));
    expect((await c.receipts()).pending[1]).toMatchObject({
      method: 'gpc',
      gpc: true,
      categories: { necessary: true, analytics: true, marketing: false },
    });
    expect(c.getState().decision).toMatchObject({ method: 'gpc', gpc: true });
    const next = track(createConsent(cfg, { gpc: true }));
    await next.start();
    expect((await next.receipts()).pending).toHaveLength(2);
    setCookie('_ga=; path=/; max-age=0');
  });

  it('withdraws once when several tabs open at once (a session restore): one gpc decision, one receipt', async () => {
    const cfg = siteConfig();
    await track(createConsent(cfg, { gpc: false })).acceptAll();
    destroyAll();
    const tabs = [1, 2, 3].map(() => track(createConsent(cfg, { gpc: true })));
    await Promise.all(tabs.map((t) => t.start()));
    // After each tab's withdrawal, if it made one (deviceId() queues behind the decisions).
    await Promise.all(tabs.map((t) => t.deviceId()));
    const withdrawals = (await tabs[0]!.receipts()).pending.filter((r) => r.method === 'gpc');
    expect(withdrawals).toHaveLength(1);
    for (const t of tabs) expect(t.getState().decision?.receiptId).toBe(withdrawals[0]!.receiptId);
  });

  it('does not bring back a category it denies when a later decision names something else', async () => {
    const cfg = siteConfig();
    await track(createConsent(cfg, { gpc: false })).acceptAll();
    const c = track(createConsent(cfg, { gpc: true }));
    await c.start();
    // Another category (or one service, from an iframe placeholder) chosen with GPC on: marketing, granted
    // without GPC, stays denied, now and after a reload.
    const d = await c.save({ categories: { analytics: false } });
    expect(d.categories.marketing).toBe(false);
    expect(c.has('marketing')).toBe(false);
    await c.allowService('ga');
    expect(c.has('marketing')).toBe(false);
    const again = track(createConsent(cfg, { gpc: true }));
    await again.start();
    expect(again.has('marketing')).toBe(false);
    expect(again.has('ga')).toBe(true);
    // A choice made while sending GPC still carries over.
    await again.save({ categories: { marketing: true } });
    await again.save({ categories: { analytics: false } });
    expect(again.has('marketing')).toBe(true);
  });

  it('is ignored when the config says so, and reads navigator.globalPrivacyControl by default', async () => {
    const c = track(createConsent(siteConfig({ gpc: false }), { gpc: true }));
    await c.acceptAll();
    expect(c.has('marketing')).toBe(true);
    expect(c.getState().gpc.active).toBe(false);
    const d = track(createConsent(siteConfig()));
    await d.start();
    expect(d.getState().gpc.active).toBe(
      (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl === true,
    );
  });
});
