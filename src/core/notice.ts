import type { NoticeCategory, NoticeSnapshot } from '../protocol/notice.ts';
import type { Localized, ResolvedConfig } from './types.ts';

/** What the UI showed: its language and texts (a complete snapshot is taken as it is). */
export type ShownNotice = Pick<NoticeSnapshot, 'language' | 'texts'> & Partial<NoticeSnapshot>;

/** A configured text in `lang`: the exact language, its primary subtag, English, then the first given. */
export function localize(text: Localized | null | undefined, lang: string): string {
  if (text == null || typeof text === 'string') return text ?? '';
  const base = lang.split('-')[0]!;
  return text[lang] ?? text[base] ?? text[base.toLowerCase()] ?? text.en ?? Object.values(text)[0] ?? '';
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

/**
 * The notice a receipt hashes: what the UI showed (its language and texts), with the configuration's
 * categories and services in that language. Without a UI (decisions through the API before anything was
 * shown): the configured language and no texts. Built in the delivery chunk, when the receipt is made.
 */
export function noticeOf(cfg: ResolvedConfig, shown?: ShownNotice): NoticeSnapshot {
  const language = shown?.language ?? cfg.language ?? cfg.languages[0] ?? 'en';
  return {
    siteId: cfg.siteId,
    revision: cfg.revision,
    texts: {},
    categories: noticeCategories(cfg, language),
    ...shown,
    language,
  };
}
