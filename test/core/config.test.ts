import { describe, expect, it, vi } from 'vitest';
import { createConsent, createConsentWith, resolveConfig } from '../../src/core/index.ts';
import * as esm from '../../src/index.ts';
import demoConfig from '../../demo/config.json';
import { TOKENS } from '../../src/core/config-fixes.ts';
import css from '../../src/ui/styles.css?inline';
import { siteConfig } from './helpers.ts';

const warnings = (input: unknown) => {
  const out: string[] = [];
  const cfg = resolveConfig(input, (m) => out.push(m));
  return { cfg, out };
};

describe('config validation', () => {
  it('accepts a good config silently and fills defaults', () => {
    const { cfg, out } = warnings(siteConfig());
    expect(out).toEqual([]);
    expect(cfg).toMatchObject({
      revision: '1',
      lifetimeDays: 182,
      endpoint: null,
      layout: 'box',
      theme: 'auto',
      consentMode: false,
      gpc: true,
      cookie: { path: '/', sameSite: 'Lax', domain: null },
    });
    expect(cfg.categories.map((c) => [c.id, c.required, c.lifetimeDays, c.gpc])).toEqual([
      ['necessary', true, 182, false],
      ['analytics', false, 182, false],
      ['marketing', false, 182, true],
    ]);
    expect(cfg.categories[1]!.services[0]).toMatchObject({
      id: 'ga',
      category: 'analytics',
      storageKeys: ['ga_*'],
    });
  });

  it('names each bad key once, with the fix, and falls back to a safe default', () => {
    const base = siteConfig();
    const { cfg, out } = warnings({
      ...base,
      siteId: 'Bad Site!',
      lifetimeDays: 500,
      layout: 'popup',
      revision: 'x'.repeat(65),
      language: 'it_IT',
      endpoint: 'javascript:alert(1)',
      consentMode: {
        mapping: { ad_storage: ['marketing'], bogus: ['x'] },
        waitForUpdate: -1,
        adsDataRedaction: 'yes',
        urlPassthrough: true,
      },
      categories: [
        ...base.categories,
        { id: 'Bad Id', title: 'x', description: 'x' },
        { id: 'analytics', title: 'dupe', description: 'x' },
        {
          id: 'social',
          title: 42,
          description: 'x',
          lifetimeDays: 0,
          services: [{ id: 'fb', name: '', cookies: [{}] }],
        },
      ],
    });
    expect(out).toEqual(
      [
        'config.siteId: must match [a-z0-9][a-z0-9_-]{0,63} (e.g. "my-shop"); using "default"',
        'config.lifetimeDays: must be a whole number of days from 1 to 395 (13 months); using 182',
        'config.categories[3].id: must be a unique id matching [a-z0-9][a-z0-9_-]{0,63}; item ignored',
        'config.categories[4].id: must be a unique id matching [a-z0-9][a-z0-9_-]{0,63}; item ignored',
        'config.categories[5].services[0].cookies[0].name: must be a cookie name (no spaces, ";", "," or "=") or a prefix like "_ga*", not "*" alone; item ignored',
        'config.categories[5].services[0].name: must be a non-empty string; using the id',
        'config.categories[5].title: must be a string or { lang: string }; using the id',
        'config.categories[5].lifetimeDays: must be a whole number of days from 1 to 395 (13 months); using 182',
        'config.consentMode.mapping.bogus: must be a Consent Mode type (ad_storage, ad_user_data, ad_personalization, analytics_storage, functionality_storage, personalization_storage, security_storage) → category ids',
        'config.consentMode.waitForUpdate: must be milliseconds ≥ 0; using 500',
        'config.consentMode.adsDataRedaction: must be true or false; using false',
        'config.endpoint: must be an http(s) URL or a path; receipts stay on the device',
        'config.revision: must be a string of 1 to 64 characters like "2026-05"; using "1"',
        'config.language: must be a language tag like "it" or "pt-BR"',
        'config.layout: must be one of bar, box, modal; using box',
      ].map((m) => `[assenso] ${m}`),
    );
    expect(cfg).toMatchObject({ siteId: 'default', lifetimeDays: 182, layout: 'box', endpoint: null });
    expect(cfg.consentMode).toMatchObject({ waitForUpdate: 500, set: ['url_passthrough'] });
    expect(cfg.categories.map((c) => c.id)).toEqual(['necessary', 'analytics', 'marketing', 'social']);
    expect(cfg.categories[3]).toMatchObject({
      title: 'social',
      lifetimeDays: 182,
      services: [{ id: 'fb', name: 'fb', cookies: [] }],
    });
  });

  it('warns when its own Consent Mode mapping names a category the site does not have (not for the defaults)', () => {
    const base = siteConfig();
    expect(
      warnings({
        ...base,
        consentMode: { mapping: { personalization_storage: ['Functional'], ad_storage: [] } },
      }).out,
    ).toEqual([
      '[assenso] config.consentMode.mapping.personalization_storage: names "Functional", not a category of this site (necessary, analytics, marketing); the type stays denied',
    ]);
    // The default mapping names `functional`, which this site has not: no warning.
    expect(warnings({ ...base, consentMode: true }).out).toEqual([]);
  });

  it('a Consent Mode mapping key named like a built-in property is no type; a known type with a bad list says so', () => {
    const base = siteConfig();
    const { cfg, out } = warnings({
      ...base,
      // As JSON.parse makes them: `__proto__` an own key, as in an inline or fetched configuration.
      consentMode: JSON.parse(
        '{"mapping": {"toString": ["analytics"], "__proto__": ["analytics"], "analytics_storage": "analytics"}}',
      ),
    });
    const types =
      'ad_storage, ad_user_data, ad_personalization, analytics_storage, functionality_storage, personalization_storage, security_storage';
    expect(out).toEqual([
      `[assenso] config.consentMode.mapping.toString: must be a Consent Mode type (${types}) → category ids`,
      `[assenso] config.consentMode.mapping.__proto__: must be a Consent Mode type (${types}) → category ids`,
      '[assenso] config.consentMode.mapping.analytics_storage: must be an array of category ids like ["analytics"]; using the default',
    ]);
    const mapping = cfg.consentMode ? cfg.consentMode.mapping : undefined;
    expect(Object.getPrototypeOf(mapping)).toBe(Object.prototype);
    expect(Object.keys(mapping as object)).not.toContain('toString');
    expect((mapping as Record<string, string[]>).analytics_storage).toEqual(['analytics']);
  });

  it('warns when the forced language is not among the languages offered (it would be passed over)', () => {
    const base = siteConfig();
    expect(warnings({ ...base, language: 'pt', languages: ['it', 'en'] }).out).toEqual([
      '[assenso] config.language: is not in config.languages (it, en); ignored',
    ]);
    expect(warnings({ ...base, language: 'de' }).out).toEqual([]);
    expect(warnings({ ...base, language: 'it-CH', languages: ['IT', 'en'] }).out).toEqual([]);
  });

  it('checks each cookie of a service: a bad field is dropped with one warning naming it, the cookie stays', () => {
    const base = siteConfig();
    const cookies = [
      { name: '_a', duration: { en: { years: 1 } }, purpose: true, domain: 5, path: 'shop' },
      {
        name: '_b',
        duration: { en: '1 year', it: '1 anno' },
        purpose: 'Counts visits',
        domain: '.example.com',
        path: '/shop',
      },
      { name: '_c', duration: [{ a: 1 }], purpose: { en: 7 }, domain: '', path: ['/'] },
      { name: '_d', duration: '2 years' },
    ];
    const { cfg, out } = warnings({
      ...base,
      categories: [
        base.categories[0],
        { ...base.categories[1], services: [{ id: 'ga', name: 'GA', cookies }] },
      ],
    });
    const at = '[assenso] config.categories[1].services[0].cookies';
    expect(out).toEqual([
      `${at}[0].domain: must be a domain like "example.com"`,
      `${at}[0].path: must start with "/"`,
      `${at}[0].duration: must be a string or { lang: string }; ignored`,
      `${at}[0].purpose: must be a string or { lang: string }; ignored`,
      `${at}[2].domain: must be a domain like "example.com"`,
      `${at}[2].path: must start with "/"`,
      `${at}[2].duration: must be a string or { lang: string }; ignored`,
      `${at}[2].purpose: must be a string or { lang: string }; ignored`,
    ]);
    // Dropped fields are gone (undefined), the rest kept as given.
    expect(cfg.categories[1]!.services[0]!.cookies).toEqual([
      { name: '_a' },
      cookies[1],
      { name: '_c' },
      { name: '_d', duration: '2 years' },
    ]);
  });

  it('names each key that is no setting once, at every level, with the setting it most likely meant', () => {
    const base = siteConfig();
    const [necessary, analytics, marketing] = base.categories as never as Record<string, unknown>[];
    const ga = (analytics!.services as Record<string, unknown>[])[0]!;
    const input = {
      ...base,
      consentmode: true,
      privacyPolicyURL: '/privacy',
      categoriez: [],
      colour: 'red',
      consentMode: { waitforupdate: 100 },
      cookie: { ...base.cookie, samesite: 'Strict' },
      categories: [
        necessary,
        {
          ...analytics,
          lifetime: 30,
          services: [{ ...ga, cookie: [{ name: '_gid' }], cookies: [{ name: '_ga', durations: '1y' }] }],
        },
        { ...marketing, ix: 1 },
      ],
    };
    const { cfg, out } = warnings(input);
    expect(out).toEqual(
      [
        'config.consentmode: is not a setting; did you mean consentMode?',
        'config.privacyPolicyURL: is not a setting; did you mean privacyPolicyUrl?',
        'config.categoriez: is not a setting; did you mean categories?',
        'config.colour: is not a setting; ignored',
        'config.categories[1].lifetime: is not a setting; did you mean lifetimeDays?',
        'config.categories[1].services[0].cookie: is not a setting; did you mean cookies?',
        'config.categories[1].services[0].cookies[0].durations: is not a setting; did you mean duration?',
        'config.categories[2].ix: is not a setting; ignored',
        'config.consentMode.waitforupdate: is not a setting; did you mean waitForUpdate?',
        'config.cookie.samesite: is not a setting; did you mean sameSite?',
      ].map((m) => `[assenso] ${m}`),
    );
    // Ignored: what the settings say stands.
    expect(cfg.consentMode).toMatchObject({ waitForUpdate: 500 });
    expect(cfg.cookie.sameSite).toBe('Lax');
    // The demo's configuration, every key of every level, is all settings.
    expect(warnings(demoConfig).out).toEqual([]);
  });

  it('a cookie pattern that is "*" alone or holds what no cookie name can is ignored; one covering the consent cookie is named', () => {
    const base = siteConfig();
    const name = base.cookie!.name!;
    const [necessary, analytics] = base.categories;
    const { cfg, out } = warnings({
      ...base,
      categories: [
        // Listed in the required category's cookie table, as the demo does: never withdrawn, so not named.
        { ...necessary, services: [{ id: 'us', name: 'Us', cookies: [{ name }] }] },
        {
          ...analytics,
          services: [
            {
              id: 'ga',
              name: 'GA',
              cookies: [
                { name: '*' },
                { name: '_ga x' },
                { name: 'a;b' },
                { name: 'c_*' },
                { name },
                { name: '_ga*' },
              ],
            },
          ],
        },
      ],
    });
    const at = '[assenso] config.categories[1].services[0].cookies';
    const bad =
      'must be a cookie name (no spaces, ";", "," or "=") or a prefix like "_ga*", not "*" alone; item ignored';
    const own = `matches the consent cookie "${name}", which is never cleared; name the service's own cookies`;
    expect(out).toEqual([
      `${at}[0].name: ${bad}`,
      `${at}[1].name: ${bad}`,
      `${at}[2].name: ${bad}`,
      `${at}[3].name: ${own}`,
      `${at}[4].name: ${own}`,
    ]);
    expect(cfg.categories[1]!.services[0]!.cookies.map((c) => c.name)).toEqual(['c_*', name, '_ga*']);
  });

  it('storage keys "*" alone (every key of the site) are refused with a warning; prefixes stay', () => {
    const base = siteConfig();
    const [necessary, analytics] = base.categories;
    const services = (storageKeys: string[]) => [{ id: 'ga', name: 'GA', storageKeys }];
    const { cfg, out } = warnings({
      ...base,
      categories: [
        necessary!,
        { ...analytics!, services: services(['ga_*', '*']) },
        {
          id: 'ads',
          title: 'Ads',
          description: 'x',
          services: [{ id: 'ad', name: 'Ad', storageKeys: ['ad_*'] }],
        },
      ],
    });
    expect(out).toEqual([
      '[assenso] config.categories[1].services[0].storageKeys: must be an array of key names or prefixes like "ga_*", not "*" alone; none used',
    ]);
    expect(cfg.categories[1]!.services[0]!.storageKeys).toEqual([]);
    expect(cfg.categories[2]!.services[0]!.storageKeys).toEqual(['ad_*']);
  });

  it('site texts: a blank or non-string text, and a key that is no message key, are named (the built-in text shows)', () => {
    const { out } = warnings({
      ...siteConfig(),
      texts: {
        en: {
          rejectAll: '',
          customise: '   ',
          bannerTitle: 42,
          acceptALL: 'Yes',
          heading: 'Hi',
          saved: 'Done',
        },
      },
    });
    expect(out).toEqual(
      [
        'config.texts.en.acceptALL: is not a setting; did you mean acceptAll?',
        'config.texts.en.heading: is not a setting; ignored',
        'config.texts.en.rejectAll: must be a non-blank string; the built-in text is used',
        'config.texts.en.customise: must be a non-blank string; the built-in text is used',
        'config.texts.en.bannerTitle: must be a non-blank string; the built-in text is used',
      ].map((m) => `[assenso] ${m}`),
    );
  });

  it('a configuration that is no object is named as such, not by the keys it lacks; its keys still count', () => {
    const root =
      '[assenso] config.(root): must be an object like { siteId, categories }; using an empty config';
    for (const input of [[], 'hello', null, [{ siteId: 'shop' }]])
      expect(warnings(input).out).toEqual([root]);
    // The script tag's data attributes on a configuration that was no object (embed.ts).
    const { cfg, out } = warnings(Object.assign([], { siteId: 'shop' }));
    expect(out).toEqual([root]);
    expect(cfg.siteId).toBe('shop');
  });

  it("names texts of a language the site does not offer (they are never shown); a regional one's counts", () => {
    const base = { ...siteConfig(), languages: ['it', 'en'] };
    const texts = {
      it: { bannerTitle: 'Ciao' },
      'EN-gb': { bannerTitle: 'Hi' },
      de: { bannerTitle: 'Hallo' },
    };
    expect(warnings({ ...base, texts }).out).toEqual([
      '[assenso] config.texts.de: is not in config.languages (it, en); ignored',
    ]);
  });

  it('knows every theme token the styles read, and no other', () => {
    const read = new Set([...css.matchAll(/var\((--assenso-[a-z0-9-]+)/g)].map((m) => m[1]));
    expect([...read].sort()).toEqual([...TOKENS].sort());
  });

  it('names what the UI passes over: no required category, a link that is not http(s), a bad theme token', () => {
    const base = siteConfig();
    const [, analytics, marketing] = base.categories;
    const { out } = warnings({
      ...base,
      privacyPolicyUrl: { en: 'javascript:alert(1)', it: '/privacy' },
      themeTokens: {
        '--assenso-accent': '#0a5',
        accent: '#0a5',
        '--assenso-bg': 5,
        '--assenso-acent-dark': '#0f7',
        '--assenso-shadow': 'none',
      },
      categories: [
        analytics,
        { ...marketing, services: [{ id: 'yt', name: 'YouTube', privacyUrl: 'data:text/html,hi' }] },
      ],
    });
    expect(out).toEqual(
      [
        'config.categories[1].services[0].privacyUrl: must be an http(s) or relative URL; not linked',
        'config.categories: has no required category; add one for what the site needs to work (e.g. { id: "necessary", required: true })',
        'config.privacyPolicyUrl.en: must be an http(s) or relative URL; not linked',
        'config.themeTokens.accent: must be a string, named "--assenso-…" (docs/embedding.md); ignored',
        'config.themeTokens.--assenso-bg: must be a string, named "--assenso-…" (docs/embedding.md); ignored',
        // Well formed, but no token the styles read: a typo changed nothing, silently.
        'config.themeTokens.--assenso-acent-dark: is not a theme token; did you mean --assenso-accent-dark?',
        'config.themeTokens.--assenso-shadow: is not a theme token (docs/embedding.md lists them); ignored',
      ].map((m) => `[assenso] ${m}`),
    );
    expect(warnings({ ...base, privacyPolicyUrl: ' JAVASCRIPT:x' }).out).toEqual([
      '[assenso] config.privacyPolicyUrl: must be an http(s) or relative URL; not linked',
    ]);
  });

  it("a cookie.domain that does not cover the page's host is named, and the mirror is host-only", () => {
    const base = siteConfig();
    const host = location.hostname;
    const { cfg, out } = warnings({ ...base, cookie: { ...base.cookie, domain: 'example.com' } });
    expect(out).toEqual([
      `[assenso] config.cookie.domain: does not cover this page's host ${host}; using host-only`,
    ]);
    expect(cfg.cookie.domain).toBeNull();
    for (const domain of [host, `.${host}`, host.toUpperCase()])
      expect(warnings({ ...base, cookie: { ...base.cookie, domain } })).toMatchObject({
        out: [],
        cfg: { cookie: { domain } },
      });
  });

  it('never throws, whatever the page passes', () => {
    for (const input of [
      undefined,
      null,
      42,
      'x',
      [],
      { categories: 'x' },
      { categories: [null, 1] },
      { cookie: 5 },
    ]) {
      expect(() => warnings(input)).not.toThrow();
    }
    // One key, one warning: no array is no category either, but that is said once.
    expect(warnings({ siteId: 'shop', categories: 'x' }).out).toEqual([
      '[assenso] config.categories: must be an array of categories; none used',
    ]);
    expect(warnings({ siteId: 'shop', categories: [] }).out).toEqual([
      '[assenso] config.categories: needs at least one category (e.g. { id: "necessary", required: true })',
    ]);
    expect(warnings(null).out[0]).toBe(
      '[assenso] config.(root): must be an object like { siteId, categories }; using an empty config',
    );
  });

  it('the ES module entry offers resolveConfig, which warns synchronously (docs/embedding.md)', () => {
    const out: string[] = [];
    esm.resolveConfig({ ...siteConfig(), layout: 'popup' }, (m) => out.push(m));
    expect(out).toEqual(['[assenso] config.layout: must be one of bar, box, modal; using box']);
  });

  it('names the bad key even when the wording cannot load (offline)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const c = createConsentWith(() => Promise.reject(new TypeError('offline')), {
      ...siteConfig(),
      layout: 1,
    });
    await vi.waitFor(() =>
      expect(warn).toHaveBeenCalledWith('[assenso] config.layout is invalid; a default is used'),
    );
    expect(c.config.layout).toBe('box');
    warn.mockRestore();
  });

  it('createConsent warns on the console with the [assenso] prefix and still works', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const c = createConsent({ ...siteConfig(), theme: 'neon' }, { gpc: false });
    // Worded by the delivery chunk, once it has loaded (the script tag's first file has no wording).
    await vi.waitFor(() =>
      expect(warn).toHaveBeenCalledWith(
        '[assenso] config.theme: must be one of light, dark, auto; using auto',
      ),
    );
    expect(warn).toHaveBeenCalledTimes(1);
    await c.acceptAll();
    expect(c.has('analytics')).toBe(true);
    c.destroy();
    warn.mockRestore();
  });

  it('createConsent tells a forced language outside languages once its chunk is here, and only once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const c = createConsent({ ...siteConfig(), language: 'pt', languages: ['it'] }, { gpc: false });
    await c.acceptAll(); // the chunk is in use for the receipt
    await c.flush();
    expect(warn.mock.calls).toEqual([
      ['[assenso] config.language: is not in config.languages (it); ignored'],
    ]);
    c.destroy();
    warn.mockRestore();
  });
});
