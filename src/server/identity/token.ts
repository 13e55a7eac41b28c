/**
 * @module
 * Verification of identity tokens (JWT HS256 signed by a site's backend, see `../identity-token.ts`).
 *
 * Each failure is its own reason, answered as its own problem type and written to the audit log: a site's
 * developer sees at once whether the clock, the key id or the audience is wrong.
 */
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { MAX_IDENTITY_TTL_SECONDS } from '../identity-token.ts';

/** Why a token was refused; each is a problem type `https://assenso.dev/problems/<reason>`. */
export type TokenFailure =
  | 'token-malformed'
  | 'token-algorithm'
  | 'token-unknown-key'
  | 'token-bad-signature'
  | 'token-wrong-audience'
  | 'token-expired'
  | 'token-lifetime'
  | 'token-claims'
  | 'token-replayed';

/** A refused identity token. `reason` is stable; the message is for logs, never shown to visitors. */
export class IdentityTokenError extends Error {
  override name = 'IdentityTokenError';
  constructor(
    readonly reason: TokenFailure,
    message: string,
  ) {
    super(message);
  }
}

/** What a valid token says. */
export interface IdentityClaims {
  /** The site's user id (never stored: only its keyed hash). */
  sub: string;
  jti: string;
  /** Epoch seconds. */
  exp: number;
  kid: string;
}

/** Clock difference tolerated between the site's backend and this server. */
export const CLOCK_SKEW_SECONDS = 60;
const MAX_TOKEN_CHARS = 4096;
const MAX_CLAIM_CHARS = 256;

/**
 * Checks `token` for `siteId` against the site's secrets (`kid` → secret). Refuses, with its own reason:
 * anything but three base64url parts, an `alg` other than HS256 (`none` included), a missing or unknown
 * `kid`, a wrong signature, `aud` other than the site, an expired token, one that lives longer than 10 minutes
 * (`exp` beyond now + 600 s, or `exp - iat` > 600 s, with 60 s of clock skew), and missing `sub`/`jti`/`iat`.
 * Replay (`jti` seen before) is checked by the caller, in the database shared by every instance.
 */
export async function verifyIdentityToken(
  token: string,
  siteId: string,
  secrets: Readonly<Record<string, string>> | undefined,
  nowMs: number,
): Promise<IdentityClaims> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || token.split('.').length !== 3) {
    throw new IdentityTokenError('token-malformed', 'not a compact JWS');
  }
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw new IdentityTokenError('token-malformed', 'unreadable header');
  }
  if (header.alg !== 'HS256') {
    throw new IdentityTokenError('token-algorithm', `alg ${String(header.alg)} is not accepted (HS256 only)`);
  }
  const kid = header.kid;
  const secret = typeof kid === 'string' && secrets && Object.hasOwn(secrets, kid) ? secrets[kid] : undefined;
  if (kid === undefined || secret === undefined) {
    throw new IdentityTokenError('token-unknown-key', `kid ${String(kid)} is not a key of this site`);
  }
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      audience: siteId,
      currentDate: new Date(nowMs),
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
    }));
  } catch (err) {
    throw mapJoseError(err);
  }
  const { sub, jti, exp, iat } = payload;
  if (
    typeof sub !== 'string' ||
    typeof jti !== 'string' ||
    typeof exp !== 'number' ||
    typeof iat !== 'number' ||
    sub.length === 0 ||
    sub.length > MAX_CLAIM_CHARS ||
    jti.length === 0 ||
    jti.length > MAX_CLAIM_CHARS
  ) {
    throw new IdentityTokenError('token-claims', 'sub and jti must be 1-256 characters, exp and iat numbers');
  }
  const nowSeconds = nowMs / 1000;
  if (
    exp - nowSeconds > MAX_IDENTITY_TTL_SECONDS + CLOCK_SKEW_SECONDS ||
    exp - iat > MAX_IDENTITY_TTL_SECONDS
  ) {
    throw new IdentityTokenError('token-lifetime', `exp must be at most ${MAX_IDENTITY_TTL_SECONDS} s ahead`);
  }
  return { sub, jti, exp, kid };
}

function mapJoseError(err: unknown): IdentityTokenError {
  if (err instanceof errors.JWTExpired) return new IdentityTokenError('token-expired', 'exp is in the past');
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new IdentityTokenError('token-bad-signature', 'signature does not match the key');
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new IdentityTokenError('token-wrong-audience', 'aud is not this site');
    return new IdentityTokenError('token-claims', `claim ${err.claim}: ${err.reason}`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new IdentityTokenError('token-algorithm', 'alg not accepted');
  return new IdentityTokenError('token-malformed', err instanceof Error ? err.message : 'unreadable token');
}
