/**
 * A configured URL becomes a link only when it is http(s) or relative (resolved against the page, so also
 * http(s)). `javascript:`, `data:` and every other scheme are refused, including the spellings browsers
 * normalise (`JaVaScRiPt:`, leading control characters, tabs inside the scheme): anything with a colon
 * before the first `/`, `?` or `#` that is not http(s) is refused.
 */
export function safeUrl(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  const s = url.trim();
  if (/^https?:\/\//i.test(s)) return s;
  const colon = s.indexOf(':');
  return s && (colon < 0 || /[/?#]/.test(s.slice(0, colon))) ? s : undefined;
}
