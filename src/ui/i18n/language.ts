/**
 * Which language the widget speaks: the configured one, then the page's `<html lang>`, then the browser's
 * preferred languages, then the fallback. A tag matches a supported language exactly or by its primary
 * subtag, on either side and in any case (`it-CH` → `it`, `pt-BR` → `pt` when offered; `de` → `de-DE` when
 * that is what the site offers; `IT` → `it`). Pure: the caller passes what it read from the page.
 */
export function pickLanguage(
  supported: readonly string[],
  candidates: readonly (string | null | undefined)[],
  fallback: string,
): string {
  const lower = supported.map((s) => s.toLowerCase());
  const primary = (tag: string) => tag.split('-')[0];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const tag = candidate.toLowerCase();
    const i = [
      lower.indexOf(tag),
      lower.indexOf(primary(tag)!),
      lower.findIndex((s) => primary(s) === primary(tag)),
    ].find((i) => i >= 0);
    if (i !== undefined) return supported[i]!;
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
