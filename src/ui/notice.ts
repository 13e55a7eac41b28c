import type { ResolvedConfig } from '../core/types.ts';
import type { Catalog } from './i18n/catalog.ts';

/**
 * The catalog with the site's own texts for `lang` on top: only known keys, only strings with something to
 * show (a blank "Reject all" is an unlabelled button; the delivery chunk's crossCheck names it).
 */
export function withSiteTexts<T extends Catalog>(catalog: T, config: ResolvedConfig, lang: string): T {
  const own = config.texts[lang] ?? {};
  const out = { ...catalog };
  for (const key in catalog) {
    const v = own[key];
    if (typeof v === 'string' && v.trim()) (out as Record<string, unknown>)[key] = v;
  }
  return out;
}
