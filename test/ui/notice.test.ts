import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/core/index.ts';
import { BUILT_IN } from '../../src/ui/i18n/catalog.ts';
import { withSiteTexts } from '../../src/ui/notice.ts';
import { siteConfig } from '../core/helpers.ts';

describe("the site's own texts", () => {
  it('replace the built-in ones only with a string that shows something (a blank button has no label)', () => {
    const config = resolveConfig(
      siteConfig({
        texts: { en: { rejectAll: '', customise: '   ', bannerTitle: 42, acceptAll: 'Yes to all' } } as never,
      }),
      () => {},
    );
    const m = withSiteTexts(BUILT_IN.en!, config, 'en');
    expect([m.rejectAll, m.customise, m.bannerTitle, m.acceptAll]).toEqual([
      BUILT_IN.en!.rejectAll,
      BUILT_IN.en!.customise,
      BUILT_IN.en!.bannerTitle,
      'Yes to all',
    ]);
  });

  it('are found for the language spoken as languages are matched: any case, else its primary subtag', () => {
    for (const [languages, lang] of [
      [['IT', 'EN'], 'IT'],
      [['en-GB', 'it-IT'], 'it-IT'],
    ] as const) {
      const config = resolveConfig(
        siteConfig({ languages: [...languages], texts: { it: { acceptAll: 'Va benissimo' } } }),
        () => {},
      );
      expect(withSiteTexts(BUILT_IN.it!, config, lang).acceptAll).toBe('Va benissimo');
    }
    // The exact tag first, when the site gave one.
    const config = resolveConfig(
      siteConfig({ texts: { 'it-CH': { acceptAll: 'Va bene' }, it: { acceptAll: 'Va benissimo' } } }),
      () => {},
    );
    expect(withSiteTexts(BUILT_IN.it!, config, 'it-CH').acceptAll).toBe('Va bene');
  });
});
