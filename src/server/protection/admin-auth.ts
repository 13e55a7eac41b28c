/**
 * @module
 * Role checks for the admin API: `requireRole(deps, 'admin', 'operator')` in front of a route.
 *
 * `Authorization: Bearer ask_<keyId>_<secret>` → the key's principal `{ keyId, role, siteId }` is put on the
 * context (`c.get('admin')`) for the route and the access log. Missing, malformed, unknown or revoked key: 401
 * `unauthorized` (with `WWW-Authenticate: Bearer`). A valid key of another role: 403 `forbidden`.
 * A key scoped to one site may only act on that site: routes call `assertSiteAccess(principal, siteId)`.
 *
 * @example
 * app.get('/v1/admin/receipts', requireRole({ adminKeys }, 'admin', 'auditor'), (c) => {
 *   const admin = c.get('admin');
 *   assertSiteAccess(admin, c.req.query('site'));
 *   …
 * });
 */
import type { Context, MiddlewareHandler } from 'hono';
import { HttpProblem, problemResponse } from '../errors.ts';
import type { AdminKeys, AdminPrincipal, AdminRole } from './admin-keys.ts';

/** Hono environment of an admin route: `c.get('admin')` is the authenticated principal. */
export type AdminEnv = { Variables: { admin: AdminPrincipal } };

/** The caller, as the access log records it: the principal plus where the request came from. */
export interface AdminActor extends AdminPrincipal {
  ip: string | null;
  userAgent: string | null;
}

/** Reads the bearer token; null when the header is absent or not a bearer credential. */
function bearer(c: Context): string | null {
  const header = c.req.header('authorization');
  const m = header ? /^Bearer[ \t]+(\S+)\s*$/i.exec(header) : null;
  return m ? (m[1] ?? null) : null;
}

/**
 * Middleware admitting only keys whose role is one of `roles` (none given: any valid key).
 * Answers the refusal itself as problem+json, so it does not depend on the app's error handler.
 */
export function requireRole(
  deps: { adminKeys: AdminKeys },
  ...roles: AdminRole[]
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const token = bearer(c);
    const principal = token ? await deps.adminKeys.authenticate(token) : null;
    if (!principal) {
      return problemResponse(
        c,
        new HttpProblem(
          401,
          'unauthorized',
          'a valid admin API key is required (Authorization: Bearer ask_…)',
          {},
          {
            'WWW-Authenticate': 'Bearer realm="assenso-admin"',
          },
        ),
      );
    }
    if (roles.length > 0 && !roles.includes(principal.role)) {
      return problemResponse(
        c,
        new HttpProblem(
          403,
          'forbidden',
          `this call needs the role ${roles.join(' or ')}; the key has ${principal.role}`,
        ),
      );
    }
    c.set('admin', principal);
    await next();
  };
}

/** Whether the principal may act on `siteId` (a key for every site may act on any). */
export function canAccessSite(principal: AdminPrincipal, siteId: string): boolean {
  return principal.siteId === null || principal.siteId === siteId;
}

/**
 * Throws 403 `forbidden` when a site-scoped key asks about another site. Returns the site to act on: the one
 * named, or a scoped key's own site when none was named (400 `invalid-request` for an all-sites key then).
 */
export function assertSiteAccess(principal: AdminPrincipal, siteId: string | undefined | null): string {
  if (!siteId) {
    if (principal.siteId) return principal.siteId;
    throw new HttpProblem(400, 'invalid-request', 'the query parameter "site" is required');
  }
  if (!canAccessSite(principal, siteId))
    throw new HttpProblem(403, 'forbidden', `this key is scoped to another site than "${siteId}"`);
  return siteId;
}

/**
 * The principal plus the request's origin, for the access log. The client IP is the app's `clientIp` (which
 * believes X-Forwarded-For only as far as `trustProxy` says), else the socket's address.
 */
export function adminActor<E extends AdminEnv>(c: Context<E>): AdminActor {
  const vars = c.var as { admin: AdminPrincipal; clientIp?: string };
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return {
    ...vars.admin,
    ip: vars.clientIp ?? env?.incoming?.socket?.remoteAddress ?? null,
    userAgent: c.req.header('user-agent') ?? null,
  };
}
