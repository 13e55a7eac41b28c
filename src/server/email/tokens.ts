/**
 * @module
 * Email-link tokens: server-signed (HMAC-SHA256), scoped to one subject, one site and one action, expiring.
 *
 * Wire form: `<payload>.<mac>`, both base64url; the payload is the compact JSON
 * `{ k: kid, s: site, u: subject, a: action, i: issued (s), x: expires (s), l?: language, n?: nonce,
 * p?: purposes }` and the
 * MAC is HMAC-SHA256 over the payload text with the key `k`. URL-safe as is (no padding, no `+` or `/`).
 * Retiring a key (see link-keys.ts) revokes every token it signed: they fail with `TokenKeyRevoked`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a token lets its bearer do. */
export const LINK_ACTIONS = ['preferences', 'unsubscribe', 'erasure-confirm'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

const ACTION_CODE: Record<LinkAction, string> = {
  preferences: 'p',
  unsubscribe: 'u',
  'erasure-confirm': 'e',
};
const CODE_ACTION: Record<string, LinkAction> = { p: 'preferences', u: 'unsubscribe', e: 'erasure-confirm' };

/** A link-signing key. `secret` is at least 32 random bytes; a retired key verifies nothing. */
export interface LinkKey {
  kid: string;
  secret: Uint8Array;
  createdAt: number;
  retiredAt?: number;
}

/** Where the keys come from: the current signing key and a lookup by kid (see link-keys.ts). */
export interface LinkKeySource {
  current(): LinkKey;
  get(kid: string): LinkKey | undefined;
}

/** The verified content of a token. */
export interface LinkClaims {
  kid: string;
  siteId: string;
  subjectId: string;
  action: LinkAction;
  /** Epoch ms. */
  issuedAt: number;
  /** Epoch ms. */
  expiresAt: number;
  language?: string;
  /** One-time nonce (erasure confirmations): the service records its use. */
  nonce?: string;
  /** Purposes the link is limited to (an unsubscribe link for one list); absent: every purpose. */
  purposes?: string[];
}

/** Base of every token failure; `code` is the problem code the HTTP layer answers with. */
export class LinkTokenError extends Error {
  readonly code:
    | 'invalid-token'
    | 'token-expired'
    | 'token-wrong-action'
    | 'token-wrong-site'
    | 'token-key-revoked' = 'invalid-token';
}
/** Malformed, tampered or signed by an unknown key. */
export class TokenInvalid extends LinkTokenError {
  override name = 'TokenInvalid';
}
export class TokenExpired extends LinkTokenError {
  override name = 'TokenExpired';
  override readonly code = 'token-expired';
  constructor(readonly expiredAt: number) {
    super(`the link expired at ${new Date(expiredAt).toISOString()}`);
  }
}
export class TokenWrongAction extends LinkTokenError {
  override name = 'TokenWrongAction';
  override readonly code = 'token-wrong-action';
}
export class TokenWrongSite extends LinkTokenError {
  override name = 'TokenWrongSite';
  override readonly code = 'token-wrong-site';
}
/** Signed by a key that has been retired: rotating keys revokes the links they signed. */
export class TokenKeyRevoked extends LinkTokenError {
  override name = 'TokenKeyRevoked';
  override readonly code = 'token-key-revoked';
}

export interface IssueInput {
  siteId: string;
  subjectId: string;
  action: LinkAction;
  /** Lifetime in ms. */
  ttlMs: number;
  language?: string;
  nonce?: string;
  purposes?: string[];
}

export interface VerifyExpectation {
  action: LinkAction;
  /** When given, a token of another site fails with TokenWrongSite. */
  siteId?: string;
}

export interface LinkTokens {
  issue(input: IssueInput): string;
  /** Checks signature, key, expiry, action and site, in that order; throws a LinkTokenError subclass. */
  verify(token: string, expect: VerifyExpectation): LinkClaims;
}

const MAX_TOKEN_LENGTH = 1024;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{43}$/;

function mac(key: LinkKey, payload: string): Buffer {
  return createHmac('sha256', key.secret).update(payload).digest();
}

/**
 * Makes the token signer/verifier.
 * @example
 * const tokens = createLinkTokens({ keys, now: Date.now });
 * const t = tokens.issue({ siteId: 'shop', subjectId, action: 'preferences', ttlMs: 60 * 86_400_000 });
 * tokens.verify(t, { action: 'preferences', siteId: 'shop' }).subjectId;
 */
export function createLinkTokens(deps: { keys: LinkKeySource; now: () => number }): LinkTokens {
  return {
    issue(input) {
      const key = deps.keys.current();
      const issued = Math.floor(deps.now() / 1000);
      const body: Record<string, unknown> = {
        k: key.kid,
        s: input.siteId,
        u: input.subjectId,
        a: ACTION_CODE[input.action],
        i: issued,
        x: issued + Math.max(1, Math.ceil(input.ttlMs / 1000)),
      };
      if (input.language) body.l = input.language;
      if (input.nonce) body.n = input.nonce;
      if (input.purposes?.length) body.p = input.purposes;
      const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      return `${payload}.${mac(key, payload).toString('base64url')}`;
    },

    verify(token, expect) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN_SHAPE.test(token))
        throw new TokenInvalid('the link is malformed');
      const [payload = '', sig = ''] = token.split('.');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        throw new TokenInvalid('the link is malformed');
      }
      if (typeof body !== 'object' || body === null || typeof body.k !== 'string')
        throw new TokenInvalid('the link is malformed');
      const key = deps.keys.get(body.k);
      if (!key) throw new TokenInvalid('the link was not signed by this server');
      const given = Buffer.from(sig, 'base64url');
      const wanted = mac(key, payload);
      if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
        throw new TokenInvalid('the link was altered');
      // Only a genuine token learns that its key was retired: forgeries stay "invalid".
      if (key.retiredAt !== undefined && key.retiredAt <= deps.now())
        throw new TokenKeyRevoked('the link was revoked');
      const { s, u, a, i, x, l, n, p } = body;
      const action = typeof a === 'string' ? CODE_ACTION[a] : undefined;
      if (
        typeof s !== 'string' ||
        typeof u !== 'string' ||
        !action ||
        typeof i !== 'number' ||
        typeof x !== 'number'
      )
        throw new TokenInvalid('the link is malformed');
      if (x * 1000 <= deps.now()) throw new TokenExpired(x * 1000);
      if (action !== expect.action)
        throw new TokenWrongAction(`the link is for ${action}, not ${expect.action}`);
      if (expect.siteId !== undefined && s !== expect.siteId)
        throw new TokenWrongSite('the link belongs to another site');
      return {
        kid: key.kid,
        siteId: s,
        subjectId: u,
        action,
        issuedAt: i * 1000,
        expiresAt: x * 1000,
        ...(typeof l === 'string' ? { language: l } : {}),
        ...(typeof n === 'string' ? { nonce: n } : {}),
        ...(Array.isArray(p) && p.every((x) => typeof x === 'string') ? { purposes: p as string[] } : {}),
      };
    },
  };
}
