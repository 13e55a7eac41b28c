/**
 * @module
 * Admin API keys: `ask_<keyId>_<secret>`, shown once at creation, stored as SHA-256 of the secret.
 *
 * Why a plain SHA-256 and not a password hash (scrypt, argon2): the secret is 256 random bits made by the
 * server, not something a person chose. A stolen hash cannot be reversed by guessing (2^256 candidates), so a
 * slow hash would add nothing but CPU on every admin request. The key id is public (it names the key in the
 * access log); the secret is compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/db.ts';

/** What a key may do. `admin`: everything; `operator`: contact data masked; `auditor`: proofs, no contact data. */
export type AdminRole = 'admin' | 'operator' | 'auditor';
export const ADMIN_ROLES: readonly AdminRole[] = ['admin', 'operator', 'auditor'];

/** Who is calling, as the middleware puts it on the request context and the access log records it. */
export interface AdminPrincipal {
  keyId: string;
  role: AdminRole;
  /** The one site the key is scoped to, or null for every site. */
  siteId: string | null;
}

export interface AdminKeyInfo extends AdminPrincipal {
  label: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface CreatedAdminKey extends AdminKeyInfo {
  /** The bearer token `ask_<keyId>_<secret>`: shown once, never stored. */
  token: string;
}

/** A key id that does not exist (revoke, lookup). */
export class UnknownAdminKeyError extends Error {
  override name = 'UnknownAdminKeyError';
}

const TOKEN = /^ask_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** `last_used_at` is refreshed at most this often, so a busy key does not write on every request. */
const TOUCH_EVERY_MS = 60_000;

interface Row {
  key_id: string;
  secret_hash: string;
  role: AdminRole;
  site_id: string | null;
  label: string;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
}

const num = (v: number | string | null) => (v === null ? null : Number(v));
const toInfo = (r: Row): AdminKeyInfo => ({
  keyId: r.key_id,
  role: r.role,
  siteId: r.site_id,
  label: r.label,
  createdAt: Number(r.created_at),
  lastUsedAt: num(r.last_used_at),
  revokedAt: num(r.revoked_at),
});

const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export interface AdminKeys {
  create(opts: { role: AdminRole; siteId?: string | null; label?: string }): Promise<CreatedAdminKey>;
  /** Every key, newest first (revoked ones too, with `revokedAt`). */
  list(): Promise<AdminKeyInfo[]>;
  /** Revokes a key at once (throws `UnknownAdminKeyError`). Revoking twice keeps the first time. */
  revoke(keyId: string): Promise<AdminKeyInfo>;
  /** The principal of a bearer token, or null when the token is malformed, unknown, wrong or revoked. */
  authenticate(token: string): Promise<AdminPrincipal | null>;
}

/**
 * The admin key store.
 *
 * @example
 * const keys = createAdminKeys({ db });
 * const { token } = await keys.create({ role: 'auditor', siteId: 'shop' });
 * await keys.authenticate(token); // { keyId, role: 'auditor', siteId: 'shop' }
 */
export function createAdminKeys(deps: {
  db: Queryable;
  now?: () => number;
  random?: (bytes: number) => Buffer;
}): AdminKeys {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? randomBytes;
  return {
    async create({ role, siteId = null, label = '' }) {
      if (!ADMIN_ROLES.includes(role))
        throw new TypeError(`unknown role "${role}" (${ADMIN_ROLES.join(', ')})`);
      const keyId = random(8).toString('hex');
      const secret = random(32).toString('base64url');
      const createdAt = now();
      await db.query(
        'INSERT INTO admin_keys (key_id, secret_hash, role, site_id, label, created_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [keyId, hashSecret(secret), role, siteId, label, createdAt],
      );
      return {
        keyId,
        role,
        siteId,
        label,
        createdAt,
        lastUsedAt: null,
        revokedAt: null,
        token: `ask_${keyId}_${secret}`,
      };
    },
    async list() {
      const { rows } = await db.query<Row>('SELECT * FROM admin_keys ORDER BY created_at DESC, key_id');
      return rows.map(toInfo);
    },
    async revoke(keyId) {
      const { rows } = await db.query<Row>(
        'UPDATE admin_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE key_id = $1 RETURNING *',
        [keyId, now()],
      );
      if (!rows[0]) throw new UnknownAdminKeyError(`no admin key ${keyId}`);
      return toInfo(rows[0]);
    },
    async authenticate(token) {
      const m = TOKEN.exec(token);
      if (!m) return null;
      const [, keyId, secret] = m as unknown as [string, string, string];
      const { rows } = await db.query<Row>('SELECT * FROM admin_keys WHERE key_id = $1', [keyId]);
      const row = rows[0];
      if (!row || row.revoked_at !== null) return null;
      const expected = Buffer.from(row.secret_hash, 'hex');
      const actual = Buffer.from(hashSecret(secret), 'hex');
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
      const t = now();
      await db.query(
        'UPDATE admin_keys SET last_used_at = $2 WHERE key_id = $1 AND (last_used_at IS NULL OR last_used_at < $3)',
        [keyId, t, t - TOUCH_EVERY_MS],
      );
      return { keyId: row.key_id, role: row.role, siteId: row.site_id };
    },
  };
}
