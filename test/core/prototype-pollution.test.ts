// A host page whose Object.prototype was polluted (a query-string or merge library's bug: `?ga=1` turned into
// `Object.prototype.ga = true`) must not supply a choice the visitor never made, nor reach the stored decision.
import { afterEach, describe, expect, it } from 'vitest';
import { createConsent } from '../../src/core/index.ts';
import { destroyAll, manualClock, siteConfig, track } from './helpers.ts';

const proto = Object.prototype as unknown as Record<string, unknown>;
const planted: string[] = [];
const plant = (key: string, value: unknown) => {
  planted.push(key);
  proto[key] = value;
};
afterEach(() => {
  for (const k of planted.splice(0)) delete proto[k];
  destroyAll();
});

/** The consent cookie's value for `cfg`. */
const cookieOf = (cfg: ReturnType<typeof siteConfig>) =>
  new URLSearchParams(
    decodeURIComponent(
      document.cookie
        .split('; ')
        .find((c) => c.startsWith(`${cfg.cookie!.name}=`))
        ?.slice(cfg.cookie!.name!.length + 1) ?? '',
    ),
  );

describe('a polluted Object.prototype', () => {
  it("a placeholder's Allow grants that service only", async () => {
    const cfg = siteConfig();
    const c = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    await c.start();
    plant('ga', true);
    await c.allowService('yt');
    expect(c.has('yt')).toBe(true);
    expect(c.has('ga')).toBe(false);
    expect(Object.hasOwn(c.getState().decision!.services, 'ga')).toBe(false);
    expect(cookieOf(cfg).get('s')).not.toContain('ga');
  });

  it('set() of another category grants no category the prototype names, now or after a reload', async () => {
    const cfg = siteConfig();
    const c = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    await c.start();
    plant('marketing', true);
    await c.save({ categories: { analytics: false }, method: 'api' });
    expect(c.has('marketing')).toBe(false);
    destroyAll();
    const again = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    await again.start();
    expect(again.has('marketing')).toBe(false);
    expect(cookieOf(cfg).get('c')).not.toContain('marketing:1');
  });

  it('a refusal read back from the cookie on the next page stays a refusal', async () => {
    const cfg = siteConfig();
    await track(createConsent(cfg, { clock: manualClock(), gpc: false })).rejectAll();
    destroyAll();
    plant('ga', true);
    const again = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    again.start(); // the cookie's decision applies at once (IndexedDB holds the same one)
    expect(again.has('ga')).toBe(false);
    expect(Object.hasOwn(again.getState().decision!.services, 'ga')).toBe(true);
    expect(again.getState().decision!.services.ga).toBe(false);
  });

  it('reject all writes a well-formed cookie and records no planted expiry', async () => {
    const cfg = siteConfig();
    const c = track(createConsent(cfg, { clock: manualClock(), gpc: false }));
    await c.start();
    plant('yt', true);
    await c.rejectAll();
    expect(cookieOf(cfg).get('s')).toBe('');
    expect(c.getState().decision!.services).toEqual({ ga: false, yt: false });
  });
});
