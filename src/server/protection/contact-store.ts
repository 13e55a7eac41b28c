/**
 * @module
 * The contact data of a subject (the address a renewal is sent to): encrypted at rest, found by keyed hash.
 *
 * Table `contacts` (migration 005): one row per site × subject × kind. `value_enc` is the envelope
 * (contact-crypto.ts) bound to its row; `lookup_hash` is the pseudonymizer's keyed hash of the normalised value,
 * so "who is ada@example.com on this site?" is answered without ever storing or scanning plain addresses.
 *
 * @example
 * const contacts = createContactStore({ db, crypto, pseudonymizer });
 * await contacts.put({ siteId: 'shop', subjectId, kind: 'email', value: 'Ada@Example.com ' });
 * await contacts.findSubject('shop', 'email', 'ada@example.com'); // subjectId
 * await contacts.get('shop', subjectId, 'email'); // 'Ada@Example.com'
 */
import type { Queryable } from '../db/db.ts';
import type { ContactCrypto } from './contact-crypto.ts';

/** The kinds of contact data the store holds. */
export type ContactKind = 'email' | 'phone';
export const CONTACT_KINDS: readonly ContactKind[] = ['email', 'phone'];

/** The one part of the pseudonymizer (src/server/crypto/pseudonym.ts) the store needs. */
export interface KeyedHasher {
  hash(kind: string, value: string): string;
}

export interface ContactRecord {
  kind: ContactKind;
  /** The plain value, or null when it cannot be decrypted (see `error`). */
  value: string | null;
  keyId: string;
  createdAt: number;
  updatedAt: number;
  /** Why `value` is null: the name of the error (RetiredKeyError, UnknownKeyError, ContactDecryptError). */
  error?: string;
}

export interface ContactStore {
  /** Stores (or replaces) a subject's contact value, encrypted under the current key. */
  put(
    input: { siteId: string; subjectId: string; kind: ContactKind; value: string },
    tx?: Queryable,
  ): Promise<void>;
  /** The plain value, or null when there is none. Throws the crypto's named errors when it cannot be read. */
  get(siteId: string, subjectId: string, kind: ContactKind, tx?: Queryable): Promise<string | null>;
  /** The subject whose value (normalised) this is on the site, or null. */
  findSubject(siteId: string, kind: ContactKind, value: string, tx?: Queryable): Promise<string | null>;
  /** Every value of a subject, decrypted where possible (an unreadable one is reported, not hidden). */
  listForSubject(siteId: string, subjectId: string, tx?: Queryable): Promise<ContactRecord[]>;
  /** Deletes a subject's contact data (one kind, or all); returns the number of values removed. */
  remove(siteId: string, subjectId: string, kind?: ContactKind, tx?: Queryable): Promise<number>;
}

/** Lower-cases and trims an address, strips spaces and dashes from a phone number: the lookup form. */
export function normaliseContact(kind: ContactKind, value: string): string {
  const v = value.trim();
  return kind === 'email' ? v.toLowerCase() : v.replace(/[\s().-]/g, '');
}

/**
 * The lookup hash of a contact value on a site. The site is inside the hash: the same address on two sites
 * gives two unrelated hashes, so a database copy cannot join people across sites.
 */
export function contactLookupHash(
  hasher: KeyedHasher,
  siteId: string,
  kind: ContactKind,
  value: string,
): string {
  return hasher.hash(`contact-${kind}`, `${siteId}\0${normaliseContact(kind, value)}`);
}

/** What an operator sees: `m•••@example.com`, `•••••••67`. */
export function maskContact(kind: ContactKind, value: string): string {
  if (kind === 'email') {
    const at = value.lastIndexOf('@');
    if (at < 1) return '•••';
    return `${value[0]}•••${value.slice(at)}`;
  }
  const digits = value.replace(/\D/g, '');
  return `${'•'.repeat(Math.max(3, digits.length - 2))}${digits.slice(-2)}`;
}

interface Row {
  kind: ContactKind;
  value_enc: string;
  key_id: string;
  created_at: number | string;
  updated_at: number | string;
}

export function createContactStore(deps: {
  db: Queryable;
  crypto: ContactCrypto;
  pseudonymizer: KeyedHasher;
  now?: () => number;
}): ContactStore {
  const { crypto, pseudonymizer } = deps;
  const now = deps.now ?? Date.now;
  return {
    async put({ siteId, subjectId, kind, value }, tx = deps.db) {
      const stored = crypto.encrypt(value.trim(), { siteId, subjectId, field: kind });
      const t = now();
      await tx.query(
        `INSERT INTO contacts (site_id, subject_id, kind, lookup_hash, value_enc, key_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (site_id, subject_id, kind)
         DO UPDATE SET lookup_hash = EXCLUDED.lookup_hash, value_enc = EXCLUDED.value_enc,
                       key_id = EXCLUDED.key_id, updated_at = EXCLUDED.updated_at`,
        [
          siteId,
          subjectId,
          kind,
          contactLookupHash(pseudonymizer, siteId, kind, value),
          stored,
          crypto.currentKid,
          t,
        ],
      );
    },
    async get(siteId, subjectId, kind, tx = deps.db) {
      const { rows } = await tx.query<Row>(
        'SELECT value_enc FROM contacts WHERE site_id = $1 AND subject_id = $2 AND kind = $3',
        [siteId, subjectId, kind],
      );
      const row = rows[0];
      return row ? crypto.decrypt(row.value_enc, { siteId, subjectId, field: kind }) : null;
    },
    async findSubject(siteId, kind, value, tx = deps.db) {
      const { rows } = await tx.query<{ subject_id: string }>(
        'SELECT subject_id FROM contacts WHERE site_id = $1 AND kind = $2 AND lookup_hash = $3 ORDER BY updated_at DESC LIMIT 1',
        [siteId, kind, contactLookupHash(pseudonymizer, siteId, kind, value)],
      );
      return rows[0]?.subject_id ?? null;
    },
    async listForSubject(siteId, subjectId, tx = deps.db) {
      const { rows } = await tx.query<Row>(
        'SELECT kind, value_enc, key_id, created_at, updated_at FROM contacts WHERE site_id = $1 AND subject_id = $2 ORDER BY kind',
        [siteId, subjectId],
      );
      return rows.map((r) => {
        const base = {
          kind: r.kind,
          keyId: r.key_id,
          createdAt: Number(r.created_at),
          updatedAt: Number(r.updated_at),
        };
        try {
          return { ...base, value: crypto.decrypt(r.value_enc, { siteId, subjectId, field: r.kind }) };
        } catch (err) {
          return { ...base, value: null, error: (err as Error).name };
        }
      });
    },
    async remove(siteId, subjectId, kind, tx = deps.db) {
      const res = kind
        ? await tx.query('DELETE FROM contacts WHERE site_id = $1 AND subject_id = $2 AND kind = $3', [
            siteId,
            subjectId,
            kind,
          ])
        : await tx.query('DELETE FROM contacts WHERE site_id = $1 AND subject_id = $2', [siteId, subjectId]);
      return res.rowCount;
    },
  };
}
