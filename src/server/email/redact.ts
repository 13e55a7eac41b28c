/**
 * Email-link tokens travel in paths (`/p/<token>`, `/u/<token>`): request logs must show the route, never
 * the token, since anyone reading the logs could otherwise act for the person.
 */
export function redactLinkTokens(path: string): string {
  return path.replace(/^\/([pu])\/(?!assets\/)[^/]+\.[^/]+/, '/$1/[token]');
}
