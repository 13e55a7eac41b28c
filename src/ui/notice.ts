import type { Localized, ResolvedConfig } from '../core/types.ts';
import type { Catalog } from './i18n/catalog.ts';

/**
 * The catalog with the site's own texts for `lang` on top: only known keys, only strings with something to
 * show (a blank "Reject all" is an unlabelled button; the delivery chunk's crossCheck names it).
 */
export function withSiteTexts<T extends Catalog>(catalog: T, config: ResolvedConfig, lang: string): T {
  const own = siteTexts(config, lang) ?? {};
  const out = { ...catalog };
  for (const key in catalog) {
    const v = own[key];
    if (typeof v === 'string' && v.trim()) (out as Record<string, unknown>)[key] = v;
  }
  return out;
}

/**
 * The site's texts for `lang`, matched as languages are (i18n/language.ts): in any case, else by primary subtag
 * (`it-IT` or `IT` reads `texts.it`).
 */
export function siteTexts(config: ResolvedConfig, lang: string): Record<string, unknown> | undefined {
  const keys = Object.keys(config.texts);
  const l = lang.toLowerCase();
  const k = keys.find((k) => k.toLowerCase() === l) ?? keys.find((k) => k.toLowerCase() === l.split('-')[0]);
  return k === undefined ? undefined : config.texts[k];
}

/**
 * The language `localize` (core/notice.ts) takes a configured text in, when it is not `lang` nor its primary
 * subtag: English, else the first given. Undefined for a plain string (the site's one language: the widget's).
 * Marked on the text's element for screen readers (WCAG 3.1.2, language of parts).
 */
export function textLang(text: Localized | null | undefined, lang: string): string | undefined {
  if (!text || typeof text === 'string' || text[lang] != null || text[lang.split('-')[0]!] != null) return;
  return text.en != null ? 'en' : Object.keys(text)[0];
}
