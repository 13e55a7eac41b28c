/**
 * @module
 * Identity tokens for site backends: `import { signIdentity } from 'assenso/server'`.
 *
 * A site's backend vouches that the visitor is one of its users by signing a short-lived JWT (HS256) with the
 * site's identity secret; the widget hands it to `assenso.identify(token)`. The receipt server checks it and
 * links the browser to the user's pseudonymous subject. See docs/identity.md for other languages.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** Longest lifetime the server accepts: a token is for one page load, not a session. */
export const MAX_IDENTITY_TTL_SECONDS = 600;
/** Shortest identity secret the server accepts (bytes): HS256 needs a key as long as its hash. */
export const MIN_IDENTITY_SECRET_BYTES = 32;

export interface SignIdentityOptions {
  /** The site's identity secret for `kid` (the server's `sites[siteId].identity.secrets[kid]`). */
  secret: string;
  /** Key id: tells the server which of the site's secrets signed (rotate by adding a new kid). */
  kid: string;
  /** The site id: becomes `aud`. */
  siteId: string;
  /** The site's own user id: becomes `sub`. The server keeps only its keyed hash. */
  userId: string;
  /** Lifetime in seconds, 1 to 600 (default 300). */
  ttlSeconds?: number;
  /** Clock (epoch ms), for tests. */
  now?: () => number;
}

/**
 * Signs an identity token (JWT, HS256) with `kid` in the header and `sub`, `aud`, `iat`, `exp` and a random
 * `jti` (the server accepts each jti once).
 *
 * @example
 * import { signIdentity } from 'assenso/server';
 * const token = signIdentity({ secret: process.env.ASSENSO_IDENTITY_SECRET, kid: '2026-11', siteId: 'shop', userId: String(user.id) });
 * // in the page: assenso.identify(token)
 */
export function signIdentity(options: SignIdentityOptions): string {
  const { secret, kid, siteId, userId, ttlSeconds = 300, now = Date.now } = options;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_IDENTITY_TTL_SECONDS) {
    throw new RangeError(`signIdentity: ttlSeconds must be an integer from 1 to ${MAX_IDENTITY_TTL_SECONDS}`);
  }
  if (typeof secret !== 'string' || Buffer.byteLength(secret, 'utf8') < MIN_IDENTITY_SECRET_BYTES) {
    throw new RangeError(`signIdentity: secret must be at least ${MIN_IDENTITY_SECRET_BYTES} bytes`);
  }
  if (!kid || !siteId || !userId) throw new TypeError('signIdentity: kid, siteId and userId are required');
  const iat = Math.floor(now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT', kid };
  const payload = { sub: userId, aud: siteId, iat, exp: iat + ttlSeconds, jti: randomUUID() };
  const encode = (part: object) => Buffer.from(JSON.stringify(part), 'utf8').toString('base64url');
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
