import type { AssensoConfig, Clock, ConsentController } from '../../src/core/index.ts';

export const uid = () => Math.random().toString(36).slice(2, 10);
export const DAY = 86_400_000;
/** A fixed start time (2026-01-01) for controlled clocks. */
export const T0 = Date.UTC(2026, 0, 1);

/** A fresh site (own IndexedDB databases, own cookie, own tab channel) with three categories. */
export function siteConfig(over: Partial<AssensoConfig> = {}): AssensoConfig {
  const id = `t${uid()}`;
  return {
    siteId: id,
    cookie: { name: `c_${id}` },
    categories: [
      { id: 'necessary', required: true, title: 'Necessary', description: 'Always on' },
      {
        id: 'analytics',
        title: { en: 'Analytics', it: 'Statistiche' },
        description: 'Counting visits',
        services: [
          { id: 'ga', name: 'Google Analytics', cookies: [{ name: '_ga*' }], storageKeys: ['ga_*'] },
        ],
      },
      {
        id: 'marketing',
        title: 'Marketing',
        description: 'Ads and videos',
        gpc: true,
        services: [{ id: 'yt', name: 'YouTube', domains: ['youtube.com'] }],
      },
    ],
    ...over,
  };
}

/** A clock the test moves by hand; timers fire on advance(). */
export function manualClock(start = T0) {
  let now = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock = {
    now: () => now,
    setTimeout(fn: () => void, ms: number) {
      timers.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout: (h: unknown) => void timers.delete(h as number),
    /** Pending timer delays from now, in ms. */
    pending: () => [...timers.values()].map((t) => t.at - now),
    advance(ms: number) {
      now += ms;
      for (const [k, t] of [...timers])
        if (t.at <= now) {
          timers.delete(k);
          t.fn();
        }
    },
  } satisfies Clock & Record<string, unknown>;
  return clock;
}

const live: ConsentController[] = [];
/** Remembers a controller so that `destroyAll()` (afterEach) stops its observers and channel. */
export const track = <C extends ConsentController>(c: C) => {
  live.push(c);
  return c;
};
export const destroyAll = () => {
  for (const c of live.splice(0)) c.destroy();
};

/** Sets a cookie the way a third-party script would (the widget never writes other cookies). */
export const setCookie = (c: string) => {
  // biome-ignore lint/suspicious/noDocumentCookie: tests write cookies as third-party scripts do
  document.cookie = c;
};

export const cookieNames = () =>
  document.cookie
    .split(/;\s*/)
    .filter(Boolean)
    .map((c) => c.split('=')[0]);

/** A gated inline script (`type="text/plain"`, `data-assenso`), appended to <body>. */
export function gatedScript(category: string, text: string): HTMLScriptElement {
  const s = document.createElement('script');
  s.type = 'text/plain';
  s.setAttribute('data-assenso', category);
  s.text = text;
  document.body.append(s);
  return s;
}
