import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { createStorage } from '../../src/core/storage.ts';
import type { Decision } from '../../src/core/types.ts';
import { createWindowApi } from '../../src/ui/window-api.ts';
import { destroyAll, manualClock, siteConfig, track } from './helpers.ts';

afterEach(destroyAll);

const make = (cfg = siteConfig()) => {
  const c = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
  return { c, api: createWindowApi(c), cfg };
};
const onlyBooleans = (d: Decision | null | undefined) =>
  [d!.categories, d!.services].every((m) => Object.values(m).every((v) => typeof v === 'boolean'));

describe('window.assenso: what the receipt records', () => {
  it("acceptAll() and rejectAll() are the page's calls (method api), not clicks on the banner", async () => {
    const { c, api } = make();
    expect((await api.acceptAll())?.method).toBe('api');
    expect((await api.rejectAll())?.method).toBe('api');
    expect((await c.receipts()).pending.map((r) => r.method)).toEqual(['api', 'api']);
    // The banner's buttons go through the controller itself.
    expect((await c.acceptAll()).method).toBe('accept-all');
  });
});

describe('window.assenso.set(): only true is consent', () => {
  for (const bad of ['false', 1, null, {}])
    it(`ignores ${JSON.stringify(bad)} with one warning naming the key, and never stores it`, async () => {
      const { c, api, cfg } = make();
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const d = await api.set({
        categories: { marketing: bad, analytics: true } as never,
        services: { ga: bad } as never,
      });
      expect(warn.mock.calls.map((a) => a.join(' '))).toEqual([
        '[assenso] set(): categories.marketing must be true or false; ignored',
        '[assenso] set(): services.ga must be true or false; ignored',
      ]);
      warn.mockRestore();
      // Ignored: marketing is as if not named (not answered on a first visit: denied, and asked), ga follows
      // its granted category.
      expect(d).toMatchObject({ categories: { analytics: true }, services: { ga: true } });
      expect(d?.categories.marketing).toBeUndefined();
      expect(c.getState().prompt?.categories).toEqual(['marketing']);
      expect(api.has('marketing')).toBe(false);
      expect(api.has('yt')).toBe(false);
      expect(onlyBooleans(c.getState().decision)).toBe(true);
      expect(onlyBooleans(await createStorage(cfg.siteId).state.get<Decision>('decision'))).toBe(true);
      // The next page reads the cookie mirror first: still no marketing.
      const next = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
      void next.start();
      expect(next.has('marketing')).toBe(false);
    });

  it('an ignored value keeps the previous choice (it is no denial either)', async () => {
    const { api } = make();
    await api.acceptAll();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await api.set({
      categories: { marketing: null, analytics: 'false' } as never,
      services: { yt: 0, ga: {} } as never,
    });
    expect(warn).toHaveBeenCalledTimes(5);
    warn.mockRestore();
    for (const id of ['marketing', 'analytics', 'yt', 'ga']) expect(api.has(id)).toBe(true);
  });

  it('a service value that is not a boolean is not stored for the next page (cookie mirror)', async () => {
    const { c, api, cfg } = make();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await api.acceptAll();
    const d = await api.set({ services: { yt: 1 as never }, categories: { analytics: false } });
    warn.mockRestore();
    expect(d?.services.yt).toBe(true);
    c.destroy();
    const next = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    void next.start();
    expect(next.getState().decision?.services.yt).toBe(true);
    expect(next.has('analytics')).toBe(false);
  });

  it('nothing valid to set (nothing named, a typo, only bad values): no decision, the visitor is still asked', async () => {
    const { c, api, cfg } = make();
    await c.start();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    for (const choices of [{}, { categories: { Analytics: true } }, { services: { yt: 'true' as never } }])
      expect(await api.set(choices)).toBeNull();
    expect(warn.mock.calls.map((a) => a.join(' '))).toEqual([
      '[assenso] set(): no valid choice; nothing changed',
      '[assenso] set(): categories.Analytics is not a configured id; ignored',
      '[assenso] set(): no valid choice; nothing changed',
      '[assenso] set(): services.yt must be true or false; ignored',
      '[assenso] set(): no valid choice; nothing changed',
    ]);
    warn.mockRestore();
    expect(api.get()).toMatchObject({ decision: null, pending: true });
    expect(await createStorage(cfg.siteId).state.get('decision')).toBeUndefined();
    expect(c.getState().prompt?.reason).toBe('first-visit');
  });

  it('true and false still work; unknown ids are ignored, each with a warning', async () => {
    const { api } = make();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const d = await api.set({
      categories: { analytics: true, marketing: false, nope: true },
      services: { yt: true, zzz: false },
    });
    expect(warn.mock.calls.map((a) => a.join(' '))).toEqual([
      '[assenso] set(): categories.nope is not a configured id; ignored',
      '[assenso] set(): services.zzz is not a configured id; ignored',
    ]);
    warn.mockRestore();
    expect(d?.categories).toEqual({ necessary: true, analytics: true, marketing: false });
    expect(d?.services).toEqual({ ga: true, yt: true });
    expect([api.has('analytics'), api.has('marketing'), api.has('yt'), api.has('nope')]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    await api.set({ categories: { analytics: false } });
    expect(api.has('analytics')).toBe(false);
  });
});

describe('window.assenso: ids and arguments that are not choices', () => {
  it('an id named like a built-in property (constructor, toString, __proto__) is never granted', async () => {
    const { api } = make();
    const names = ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty'];
    expect(names.map((n) => api.has(n))).toEqual(names.map(() => false));
    await api.acceptAll();
    expect(names.map((n) => api.has(n))).toEqual(names.map(() => false));
    expect(api.has('analytics')).toBe(true);
  });

  it('set() of a required category, or of an inherited name, decides nothing, with a warning', async () => {
    const { c, api, cfg } = make();
    await c.start();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await api.set({ categories: { necessary: false } })).toBeNull();
    expect(await api.set({ categories: { hasOwnProperty: true } as never })).toBeNull();
    expect(await api.set({ categories: 'analytics' as never })).toBeNull();
    expect(warn.mock.calls.map((a) => a.join(' '))).toEqual([
      '[assenso] set(): categories.necessary is required, always on; ignored',
      '[assenso] set(): no valid choice; nothing changed',
      '[assenso] set(): categories.hasOwnProperty is not a configured id; ignored',
      '[assenso] set(): no valid choice; nothing changed',
      '[assenso] set(): categories must be an object of id: true|false; ignored',
      '[assenso] set(): no valid choice; nothing changed',
    ]);
    warn.mockRestore();
    expect(api.get()).toMatchObject({ decision: null, pending: true });
    expect((await c.receipts()).pending).toEqual([]);
    expect(await createStorage(cfg.siteId).state.get('decision')).toBeUndefined();
  });

  it('on() with an unknown event or a listener that is not a function: one warning, no error later', async () => {
    const { api } = make();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    api.on('nope' as never, () => {})();
    api.on('change', 'notfn' as never)();
    api.on('change', 'notfn' as never);
    await api.acceptAll();
    expect(warn.mock.calls.map((a) => a.join(' '))).toEqual([
      '[assenso] on(): "nope" is not an event; ignored',
      '[assenso] on("change"): the listener must be a function; ignored',
      '[assenso] on("change"): the listener must be a function; ignored',
    ]);
    expect(error).not.toHaveBeenCalled();
    warn.mockRestore();
    error.mockRestore();
  });
});

describe('window.assenso hands out copies', () => {
  it('an assenso:change listener editing its event changes nothing the dataLayer receives', async () => {
    const w = window as unknown as { dataLayer?: unknown[] };
    w.dataLayer = [];
    const edit = (e: Event) => {
      const d = (e as CustomEvent).detail;
      d.granted.categories.marketing = true;
      d.granted.services.yt = true;
    };
    window.addEventListener('assenso:change', edit);
    try {
      const { api } = make();
      await api.set({ categories: { analytics: true, marketing: false } });
      const pushed = w.dataLayer.filter((e) => (e as { event?: string }).event === 'assenso_consent');
      expect(pushed.at(-1)).toMatchObject({
        assenso: { categories: { analytics: true, marketing: false }, services: { yt: false } },
      });
    } finally {
      window.removeEventListener('assenso:change', edit);
      delete w.dataLayer;
    }
  });

  it('editing what get() returned changes nothing in has() or get()', async () => {
    const { api } = make();
    await api.rejectAll();
    const snap = api.get();
    Object.assign(snap.categories, { marketing: true });
    snap.services.yt = true;
    snap.decision!.categories.marketing = true;
    snap.decision!.services.yt = true;
    snap.decision!.expiries.marketing = 0;
    expect(api.has('marketing')).toBe(false);
    expect(api.has('yt')).toBe(false);
    expect(api.get()).toMatchObject({
      categories: { marketing: false },
      services: { yt: false },
      decision: { categories: { marketing: false }, services: { yt: false } },
    });
    expect(api.get().decision!.expiries.marketing).toBeGreaterThan(0);
    // The kept choices of a later decision come from the real one, not from the edited copy.
    await api.set({ categories: { analytics: true } });
    expect(api.has('marketing')).toBe(false);
  });

  it('editing the payload of a "ready" or "change" listener changes nothing either', async () => {
    const { c, api } = make();
    api.on('ready', (s) => {
      s.granted.categories.marketing = true;
    });
    api.on('change', (e) => {
      e.granted.categories.marketing = true;
      e.granted.services.yt = true;
      e.decision!.categories.marketing = true;
    });
    await c.start();
    expect(api.has('marketing')).toBe(false);
    await api.rejectAll();
    expect(api.has('marketing')).toBe(false);
    expect(api.has('yt')).toBe(false);
    expect(api.get().decision!.categories.marketing).toBe(false);
  });
});

describe('window.assenso.on("ready") after start-up', () => {
  it('a listener that comes late (the queue snippet ran after an async assenso.js) hears it once, at once', async () => {
    const cfg = siteConfig();
    await make(cfg).c.acceptAll();
    destroyAll();
    const early = vi.fn();
    const late = vi.fn();
    const gone = vi.fn();
    const { c, api } = make(cfg);
    api.on('ready', early);
    void c.start();
    // After start-up's `ready`: heard too, with the state that holds the stored decision; not after unsubscribing.
    api.on('ready', late);
    api.on('ready', gone)();
    await new Promise((r) => setTimeout(r));
    expect(early).toHaveBeenCalledTimes(1);
    expect(late).toHaveBeenCalledTimes(1);
    expect(late.mock.calls[0]![0].decision.method).toBe('accept-all');
    expect(late.mock.calls[0]![0].granted.categories.marketing).toBe(true);
    expect(gone).not.toHaveBeenCalled();
  });
});

describe('window.assenso.open() before start-up', () => {
  it("a returning visitor's page opening the preference center at once keeps it open", async () => {
    const cfg = siteConfig();
    await make(cfg).c.acceptAll();
    destroyAll();
    const c = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    let started = false;
    const start = () => {
      if (!started) {
        started = true;
        void c.start();
      }
    };
    const api = createWindowApi(c, start);
    // The script-tag entry starts in the task after its own; the page calls open() before that.
    api.open();
    start();
    expect(c.getState().decision).not.toBeNull();
    expect(c.getState().view).toBe('preferences');
  });
});
