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
});
