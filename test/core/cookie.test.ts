import { describe, expect, it, vi } from 'vitest';
import cookieDoc from '../../docs/cookie.md?raw';
import { createCookieMirror, decodeDecision, encodeDecision, resolveConfig } from '../../src/core/index.ts';
import { DAY, setCookie, siteConfig, T0, uid } from './helpers.ts';

const cfg = resolveConfig(siteConfig());
const decision = {
  format: 1,
  revision: '2026-05 & more',
  decidedAt: T0,
  expiresAt: T0 + 30 * DAY,
  method: 'preferences' as const,
  categories: { necessary: true, analytics: true, marketing: false },
  services: { ga: true, yt: true },
  expiries: { analytics: T0 + 30 * DAY, marketing: T0 + 182 * DAY },
  receiptId: '0b9c3a52-8d6e-4d0b-9a54-0f3f7f0f2a11',
  deviceId: '5f0c2e4a9b7d41c3a8e6f1d2c3b4a596',
  gpc: true,
};

/** A decision made at `at`, lasting 30 days. */
const madeAt = (at: number) => ({
  ...decision,
  decidedAt: at,
  expiresAt: at + 30 * DAY,
  expiries: { analytics: at + 30 * DAY },
});

/**
 * A page in a sub-folder, which sees the root's cookies and its folder's (two copies of one name), and the
 * copies of `name` it sees. Remove the frame when done.
 */
async function subFolderPage(name: string) {
  const frame = document.createElement('iframe');
  frame.src = '/sub/page/';
  const loaded = new Promise((r) => {
    frame.onload = r;
  });
  document.body.append(frame);
  await loaded;
  const doc = frame.contentDocument!;
  return { frame, doc, named: () => doc.cookie.split('; ').filter((c) => c.startsWith(`${name}=`)) };
}

describe('cookie mirror format (docs/cookie.md)', () => {
  it('round-trips and lists only services that differ from their category', () => {
    const v = encodeDecision(decision, cfg);
    expect(decodeDecision(v, cfg)).toEqual(decision);
    // Written before the site id was part of the value: still this site's.
    expect(decodeDecision(v.replace(`k=${cfg.siteId}&`, ''), cfg)).toEqual(decision);
    const p = new URLSearchParams(v);
    expect(Object.fromEntries(p)).toEqual({
      v: '1',
      k: cfg.siteId,
      r: '2026-05 & more',
      t: `${T0}`,
      x: `${T0 + 30 * DAY}`,
      m: 'preferences',
      id: decision.receiptId,
      d: decision.deviceId,
      g: '1',
      c: `necessary:1.analytics:1:${T0 + 30 * DAY}.marketing:0:${T0 + 182 * DAY}`,
      s: 'yt:1',
    });
    // Only cookie-safe characters (RFC 6265 cookie-octet).
    expect(v).toMatch(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/);
  });

  it('reads anything malformed or of another version as no decision', () => {
    const v = encodeDecision(decision, cfg);
    for (const bad of [
      '',
      'garbage',
      v.replace('v=1', 'v=2'),
      v.replace('m=preferences', 'm=sure'),
      v.replace(/id=[^&]+/, 'id=nope'),
      v.replace(/d=[^&]+/, 'd=1234'),
      v.replace('analytics%3A1', 'analytics%3Ayes'),
      v.replace(/t=\d+/, 't=soon'),
      v.replace(`k=${cfg.siteId}`, 'k=another-site'),
      // Only `v=1` and digits, as written (docs/cookie.md's reader agrees).
      v.replace('v=1', 'v=1.0'),
      v.replace('v=1', 'v=0x1'),
      v.replace('v=1', 'v=+1'),
      v.replace(/t=\d+/, 't=0x1'),
      v.replace(/x=\d+/, 'x=1e13'),
      // From the far future: planted to outrank every real decision.
      v.replace(/t=\d+/, `t=${Date.now() + 500 * DAY}`),
    ])
      expect(decodeDecision(bad, cfg)).toBeNull();
  });

  it("never takes another site's decision from a cookie of its name", () => {
    const own = resolveConfig(siteConfig({ siteId: 'shop', cookie: { name: `c${uid()}` } }));
    const sibling = resolveConfig(siteConfig({ siteId: 'blog', cookie: { name: own.cookie.name } }));
    const mirror = createCookieMirror(own);
    // On a real site: a domain-wide cookie another site on the parent domain wrote, granting more.
    const theirs = { ...decision, categories: { ...decision.categories, marketing: true } };
    setCookie(`${own.cookie.name}=${encodeDecision(theirs, sibling)}; path=/`);
    expect(mirror.read()).toBeNull();
    mirror.write(decision, T0);
    expect(mirror.read()).toEqual(decision);
    mirror.clear(Date.now());
  });

  it('a copy of its own on another path, newer (an earlier configuration, or planted), goes when it decides', async () => {
    const own = resolveConfig(siteConfig({ cookie: { name: `c${uid()}` } }));
    const at = Date.now();
    const fresh = madeAt(at);
    const { frame, doc, named } = await subFolderPage(own.cookie.name);
    const old = {
      ...fresh,
      // (Newer, but not by more than a day: one from further ahead is no decision at all.)
      decidedAt: at + 60_000,
      receiptId: '1b9c3a52-8d6e-4d0b-9a54-0f3f7f0f2a11',
      categories: { ...decision.categories, marketing: true },
    };
    // What an earlier configuration (or a sibling) left.
    doc.cookie = `${own.cookie.name}=${encodeDecision(old, own)}; path=/sub; max-age=999`;
    const mirror = createCookieMirror(own, doc);
    expect(mirror.read()?.receiptId).toBe(old.receiptId);
    mirror.write(fresh, at);
    expect(mirror.read()?.receiptId).toBe(fresh.receiptId);
    expect(named()).toHaveLength(1);
    // reset(): none left behind either.
    doc.cookie = `${own.cookie.name}=${encodeDecision(old, own)}; path=/sub; max-age=999`;
    mirror.clear(Date.now());
    expect(named()).toEqual([]);
    frame.remove();
  });

  it("a value over the browser's 4 kB leaves no older decision in force, and says so", () => {
    const own = resolveConfig(siteConfig({ cookie: { name: `c${uid()}` } }));
    const mirror = createCookieMirror(own);
    const at = Date.now();
    const small = {
      ...decision,
      decidedAt: at,
      expiresAt: at + 30 * DAY,
      expiries: { analytics: at + 30 * DAY },
    };
    mirror.write(small, at);
    expect(mirror.read()?.receiptId).toBe(small.receiptId);
    // 300 services chosen one by one.
    const services = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`vendor-${i}`, true]));
    const big = { ...small, receiptId: '2b9c3a52-8d6e-4d0b-9a54-0f3f7f0f2a11', decidedAt: at + 1, services };
    expect(encodeDecision(big, own).length).toBeGreaterThan(4096);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    mirror.write(big, at + 1);
    expect(mirror.read()).toBeNull();
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      '[assenso] the browser refused the consent cookie (over 4 kB): not kept',
    ]);
    warn.mockRestore();
  });

  it('a cookie the browser refuses (a domain the page cannot set) is said once; checkConfig falls back to host-only', () => {
    const own = resolveConfig(siteConfig({ cookie: { name: `c${uid()}` } }));
    const at = Date.now();
    const fresh = {
      ...decision,
      decidedAt: at,
      expiresAt: at + 30 * DAY,
      expiries: { analytics: at + 30 * DAY },
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // As given, unchecked (a hand-built configuration): refused, and said once however often it is written.
    const refused = createCookieMirror({ ...own, cookie: { ...own.cookie, domain: 'example.com' } });
    refused.write(fresh, at);
    refused.write({ ...fresh, decidedAt: at + 1 }, at + 1);
    expect(refused.read()).toBeNull();
    expect(warn.mock.calls.map((c) => c[0])).toEqual([
      '[assenso] the browser refused the consent cookie: not kept',
    ]);
    // Through the configuration check: named there (config.test.ts), and kept host-only.
    const checked = resolveConfig(
      siteConfig({ cookie: { name: own.cookie.name, domain: 'example.com' } }),
      (m) => warn(m),
    );
    const mirror = createCookieMirror(checked);
    mirror.write(fresh, at);
    expect(mirror.read()?.receiptId).toBe(fresh.receiptId);
    expect(warn.mock.calls.slice(1).map((c) => c[0])).toEqual([
      `[assenso] config.cookie.domain: does not cover this page's host ${location.hostname}; using host-only`,
    ]);
    mirror.clear(Date.now());
    warn.mockRestore();
  });

  it('reset leaves a mark only when the cookie is shared with subdomains; a decision older than it is none', async () => {
    const name = `c${uid()}`;
    const at = Date.now();
    const fresh = madeAt(at);
    const { frame, doc, named } = await subFolderPage(name);
    const hostOnly = createCookieMirror(resolveConfig(siteConfig({ siteId: 'shop', cookie: { name } })), doc);
    hostOnly.write(fresh, at);
    hostOnly.clear(at + 1);
    expect(named()).toEqual([]);

    const cfg = resolveConfig(siteConfig({ siteId: 'shop', cookie: { name, domain: location.hostname } }));
    const shared = createCookieMirror(cfg, doc);
    shared.write(fresh, at);
    shared.clear(at + 1);
    expect(named()).toEqual([`${name}=v=1&k=shop&t=${at + 1}&m=reset`]);
    expect(shared.read()).toBeNull();
    expect(shared.reset).toBe(at + 1);
    // A sibling's copy older than the mark (written back by an older script) is no decision.
    doc.cookie = `${name}=${encodeDecision(fresh, cfg)}; path=/sub`;
    expect(named()).toHaveLength(2);
    expect(shared.read()).toBeNull();
    // One made after it is.
    const later = { ...fresh, decidedAt: at + 2, receiptId: '1b9c3a52-8d6e-4d0b-9a54-0f3f7f0f2a11' };
    doc.cookie = `${name}=${encodeDecision(later, cfg)}; path=/sub`;
    expect(shared.read()?.receiptId).toBe(later.receiptId);
    // A mark from more than a day ahead (planted) or of another site outranks nothing.
    for (const mark of [`k=shop&t=${at + 2 * DAY}`, `k=blog&t=${at + 5}`]) {
      doc.cookie = `${name}=v=1&${mark}&m=reset; path=/`;
      expect(shared.read(at)?.receiptId).toBe(later.receiptId);
    }
    doc.cookie = `${name}=; path=/sub; max-age=0`;
    doc.cookie = `${name}=; path=/; max-age=0`;
    frame.remove();
  });

  it("docs/cookie.md's server sample reads what the widget writes, and denies what has expired", () => {
    const code = cookieDoc.match(/```js\n([\s\S]*?function consentFrom[\s\S]*?)```/)![1]!;
    type Read = { categories: Record<string, boolean>; services: Record<string, boolean> } | null;
    const consentFrom = new Function(`${code}; return consentFrom;`)() as (
      v: string,
      site: string,
      revision: string,
      categoryOf: Record<string, string>,
      now: number,
    ) => Read;
    const categoryOf = { ga: 'analytics', yt: 'marketing' };
    const v = encodeDecision(decision, cfg);
    const read = (now: number) => consentFrom(v, cfg.siteId, decision.revision, categoryOf, now);
    expect(read(T0 + DAY)).toEqual({
      categories: { necessary: true, analytics: true, marketing: false },
      services: { ga: true, yt: true },
      receiptId: decision.receiptId,
      deviceId: decision.deviceId,
    });
    // Past analytics' expiry (30 days): analytics and ga are denied; yt (marketing, 182 days) still holds.
    expect(read(T0 + 31 * DAY)).toMatchObject({
      categories: { analytics: false, marketing: false },
      services: { ga: false, yt: true },
    });
    // Past marketing's too: yt is denied, although it was allowed on its own.
    expect(read(T0 + 183 * DAY)?.services).toEqual({ ga: false, yt: false });
    expect(consentFrom(v, 'another-site', decision.revision, categoryOf, T0)).toBeNull();
  });
});
