import type { ResolvedConfig } from '../core/types.ts';
import type { Catalog } from './i18n/catalog.ts';

/** The catalog with the site's own texts for `lang` on top (only known keys, only strings). */
export function withSiteTexts<T extends Catalog>(catalog: T, config: ResolvedConfig, lang: string): T {
  const own = config.texts[lang] ?? {};
  const out = { ...catalog };
  for (const key in catalog) {
    const v = own[key];
    if (typeof v === 'string') (out as Record<string, unknown>)[key] = v;
  }
  return out;
}
