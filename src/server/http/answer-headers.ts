/**
 * @module
 * The headers middleware adds to answers (security defaults, CORS, the request id, the rate-limit policy),
 * gathered per request in one plain record before the route runs, and written once.
 *
 * Setting them on `c.res.headers` after the route made a WHATWG `Headers` object, with its validation, for
 * every answer. A hot route answers with `jsonAnswer` instead: the record goes into its response as a plain
 * object, which @hono/node-server hands to `writeHead` as it is, and no `Headers` object is made at all. Any
 * other answer (`c.json`, problem details, a preflight, a page) gets the record applied to its headers after
 * the route, as before. Names in the record are lower-case.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps.ts';

export interface AnswerHeaders {
  /** Set unless the route set its own value (security defaults, the rate-limit policy). */
  defaults: Record<string, string>;
  /** Set over the route's value (CORS, the request id). */
  set: Record<string, string>;
  /** Added to the route's `Vary`. */
  vary: string[];
  /** The response `jsonAnswer` built with the record already in it. */
  built: Response | undefined;
}

/** This request's record. Throws when `answerHeaders()` is not mounted ahead of the middleware asking. */
export function answerHeadersOf(c: Context<AppEnv>): AnswerHeaders {
  const h = c.get('answerHeaders');
  if (!h) throw new Error('answerHeaders() must be the first middleware of the app');
  return h;
}

/** Mounted first: gives each request its record and, unless the route used `jsonAnswer`, applies it. */
export function answerHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const h: AnswerHeaders = { defaults: {}, set: {}, vary: [], built: undefined };
    c.set('answerHeaders', h);
    await next();
    if (h.built !== undefined && c.res === h.built) return;
    const headers = c.res.headers;
    for (const name in h.defaults) if (!headers.has(name)) headers.set(name, h.defaults[name] as string);
    for (const name in h.set) headers.set(name, h.set[name] as string);
    for (const value of h.vary) headers.append('vary', value);
  };
}

/**
 * A JSON answer carrying the record and the route's own headers (`own`, lower-case names; they win over the
 * defaults, as a route's own values always did). A route answering this way sets its headers only here:
 * `c.header()` values would be lost. Set-Cookie values go in `cookies`.
 */
export function jsonAnswer(
  c: Context<AppEnv>,
  body: unknown,
  status: number,
  own: Record<string, string>,
  cookies: readonly string[] = [],
): Response {
  const h = answerHeadersOf(c);
  // Copied key by key: spreading these objects into a literal cost ~6 us a request, the loops ~1 us.
  const record: Record<string, string> = {};
  for (const name in h.defaults) record[name] = h.defaults[name] as string;
  record['content-type'] = 'application/json';
  for (const name in own) record[name] = own[name] as string;
  for (const name in h.set) record[name] = h.set[name] as string;
  if (h.vary.length > 0) {
    const vary = h.vary.join(', ');
    record.vary = record.vary ? `${record.vary}, ${vary}` : vary;
  }
  let headers: Record<string, string> | Headers = record;
  if (cookies.length > 0) {
    headers = new Headers(record);
    for (const cookie of cookies) headers.append('set-cookie', cookie);
  }
  h.built = new Response(JSON.stringify(body), { status, headers });
  return h.built;
}
