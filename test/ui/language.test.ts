import { describe, expect, it } from 'vitest';
import { BUILT_IN } from '../../src/ui/i18n/catalog.ts';
import { en } from '../../src/ui/i18n/en.ts';
import { moduleLoaders } from '../../src/ui/lazy.ts';
import { languageCandidates, pickLanguage } from '../../src/ui/i18n/language.ts';
import { format, LANGUAGES } from '../../src/ui/i18n/messages.ts';
import { safeUrl } from '../../src/ui/url.ts';

describe('language choice', () => {
  const supported = ['it', 'en', 'de', 'fr', 'es'];
  it('config first, then <html lang>, then the browser languages, then the fallback', () => {
    expect(pickLanguage(supported, ['de', 'it', 'fr'], 'en')).toBe('de');
    expect(pickLanguage(supported, [undefined, 'it-IT', 'fr'], 'en')).toBe('it');
    expect(pickLanguage(supported, [undefined, '', 'pt-BR', 'es-419'], 'en')).toBe('es');
    expect(pickLanguage(supported, ['pt', 'ja'], 'it')).toBe('it');
  });

  it('matches offered tags in any case and by primary subtag on either side', () => {
    expect(pickLanguage(['IT', 'EN'], ['it'], 'en')).toBe('IT');
    expect(pickLanguage(['en-GB', 'it-IT', 'de-DE'], ['de'], 'en-GB')).toBe('de-DE');
    expect(pickLanguage(['en-GB', 'it-IT'], ['it-CH'], 'en-GB')).toBe('it-IT');
    // An exact match beats a primary one, whatever the order offered.
    expect(pickLanguage(['pt-PT', 'pt-BR'], ['pt-BR'], 'en')).toBe('pt-BR');
  });

  it('reads the candidates from the page in that order', () => {
    const doc = document.implementation.createHTMLDocument('');
    doc.documentElement.lang = 'fr-CA';
    expect(languageCandidates('de', doc, { languages: ['es', 'en'], language: 'es' })).toEqual([
      'de',
      'fr-CA',
      'es',
      'en',
      'es',
    ]);
    expect(pickLanguage(supported, languageCandidates(undefined, doc, navigator), 'en')).toBe('fr');
  });

  it('every catalog is complete and non-empty; it/en banners are built in, the rest loads on demand', async () => {
    const keys = Object.keys({ ...BUILT_IN.en, ...(await moduleLoaders.prefsTexts('en')) }).sort();
    expect(keys).toEqual(Object.keys(en).sort());
    for (const lang of LANGUAGES) {
      const m = { ...(await moduleLoaders.catalog(lang)), ...(await moduleLoaders.prefsTexts(lang)) };
      expect(Object.keys(m).sort(), lang).toEqual(keys);
      for (const [k, v] of Object.entries(m!)) expect(v.trim(), `${lang}.${k}`).not.toBe('');
    }
    expect(Object.keys(BUILT_IN).sort()).toEqual(['en', 'it']);
  });

  it('formats placeholders as text', () => {
    expect(format('Allow {service}', { service: '<b>x</b>' })).toBe('Allow <b>x</b>');
  });
});

describe('safeUrl', () => {
  it('keeps http(s) and relative URLs', () => {
    for (const u of [
      'https://x.example/p',
      'HTTP://x.example',
      '/privacy',
      'privacy.html',
      '../p?a=b:c',
      '#x',
    ])
      expect(safeUrl(u)).toBe(u);
  });
  it('refuses every other scheme, however spelled', () => {
    for (const u of [
      'javascript:alert(1)',
      ' JaVaScRiPt:alert(1)',
      'java\tscript:x',
      '\u0001javascript:x',
      'data:text/html,x',
      'vbscript:x',
      '',
      42,
    ])
      expect(safeUrl(u)).toBeUndefined();
  });
});
