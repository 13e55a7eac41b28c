import type { Localized, ResolvedConfig } from '../core/types.ts';
import type { NoticeCategory, NoticeSnapshot } from '../protocol/notice.ts';
import type { Catalog } from './i18n/catalog.ts';

/** A configured text in `lang`: the exact language, its primary subtag, English, then the first given. */
export function localize(text: Localized | null | undefined, lang: string): string {
  if (text == null || typeof text === 'string') return text ?? '';
  return text[lang] ?? text[lang.split('-')[0]!] ?? text.en ?? Object.values(text)[0] ?? '';
}

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

/** Categories and services as shown in `lang`: the preference center's props and the hashed notice. */
export function noticeCategories(config: ResolvedConfig, lang: string): NoticeCategory[] {
  return config.categories.map((c) => ({
    id: c.id,
    title: localize(c.title, lang),
    description: localize(c.description, lang),
    required: c.required,
    lifetimeDays: c.lifetimeDays,
    services: c.services.map((s) => ({
      id: s.id,
      name: s.name,
      provider: s.provider,
      purpose: s.purpose && localize(s.purpose, lang),
      privacyUrl: s.privacyUrl,
      cookies: s.cookies.map((k) => ({
        name: k.name,
        duration: k.duration && localize(k.duration, lang),
        purpose: k.purpose && localize(k.purpose, lang),
      })),
    })),
  }));
}

/** Exactly what the visitor is shown, for the receipt's `noticeHash`. */
export function noticeSnapshot(config: ResolvedConfig, lang: string, m: Catalog): NoticeSnapshot {
  return {
    siteId: config.siteId,
    revision: config.revision,
    language: lang,
    texts: { ...m, privacyPolicyUrl: localize(config.privacyPolicyUrl, lang) },
    categories: noticeCategories(config, lang),
  };
}
