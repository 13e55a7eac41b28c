/**
 * Which language the widget speaks: the configured one, then the page's `<html lang>`, then the browser's
 * preferred languages, then the fallback. A tag matches a supported language exactly or by its primary
 * subtag (`it-CH` → `it`, `pt-BR` → `pt` when offered). Pure: the caller passes what it read from the page.
 */
export function pickLanguage(
  supported: readonly string[],
  candidates: readonly (string | null | undefined)[],
  fallback: string,
): string {
  const lower = supported.map((s) => s.toLowerCase());
  for (const candidate of candidates) {
    if (!candidate) continue;
    const tag = candidate.toLowerCase();
    const exact = lower.indexOf(tag);
    if (exact >= 0) return supported[exact]!;
    const primary = lower.indexOf(tag.split('-')[0]!);
    if (primary >= 0) return supported[primary]!;
  }
  return fallback;
}

/** The candidates in order of precedence, read from the page. */
export function languageCandidates(
  configured: string | undefined,
  doc: Document,
  nav: Pick<Navigator, 'languages' | 'language'>,
): (string | undefined)[] {
  return [configured, doc.documentElement.lang, ...(nav.languages ?? []), nav.language];
}
