/**
 * @module
 * Which requests may send receipts for a site. CORS alone is not enough: a `text/plain` POST (sendBeacon)
 * reaches the server without a preflight, so the server checks the browser's own statements itself.
 */
import type { SiteConfig } from '../config.ts';

/** What the request says about where it came from (browsers set both; neither can be forged by a page). */
export interface RequestOrigin {
  /** The `Origin` header, if any. */
  origin?: string;
  /** The `Sec-Fetch-Site` header, if any: `same-origin`, `same-site`, `cross-site` or `none`. */
  secFetchSite?: string;
}

/**
 * A browser request must come from one of the site's origins (`null`, sent by sandboxed and file pages, never
 * matches). A request without `Origin` is accepted only when it does not claim to be a cross-origin browser
 * request: that is a backend or a command-line client, which CORS does not concern.
 */
export function originAllowed(site: SiteConfig, from: RequestOrigin): boolean {
  if (from.origin !== undefined) return site.origins.includes(from.origin);
  return from.secFetchSite !== 'cross-site' && from.secFetchSite !== 'same-site';
}
