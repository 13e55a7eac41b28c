/**
 * @module
 * Preference-page sessions. Opening a link exchanges its token for a random session id in an HttpOnly cookie,
 * so the token leaves the address bar (history, Referer, screenshots) at once. Only SHA-256 of the id is
 * stored; each session carries its own CSRF token for the page's forms.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/db.ts';

export interface PageSession {
  siteId: string;
  subjectId: string;
  csrf: string;
  language: string | null;
  expiresAt: number;
}

export interface PageSessions {
  /** Opens a session; returns the cookie value (never stored as such). */
  open(input: {
    siteId: string;
    subjectId: string;
    language?: string;
  }): Promise<{ id: string; session: PageSession }>;
  /** The live session of a cookie value, or null (unknown or expired). */
  get(id: string | undefined): Promise<PageSession | null>;
  /** Ends every session of a person (erasure). */
  closeAll(siteId: string, subjectId: string): Promise<number>;
}

/** 30 minutes: long enough to read and decide, short enough that a shared computer forgets. */
export const SESSION_TTL_MS = 30 * 60_000;

const hashOf = (id: string) => createHash('sha256').update(id).digest('hex');

export function createPageSessions(deps: { db: Db; now: () => number; ttlMs?: number }): PageSessions {
  const ttl = deps.ttlMs ?? SESSION_TTL_MS;
  let lastPrune = 0;
  return {
    async open(input) {
      const id = randomBytes(32).toString('base64url');
      const now = deps.now();
      const session: PageSession = {
        siteId: input.siteId,
        subjectId: input.subjectId,
        csrf: randomBytes(24).toString('base64url'),
        language: input.language ?? null,
        expiresAt: now + ttl,
      };
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        await deps.db.query('DELETE FROM email_sessions WHERE expires_at <= $1', [now]);
      }
      await deps.db.query(
        `INSERT INTO email_sessions (id_hash, site_id, subject_id, csrf, language, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          hashOf(id),
          session.siteId,
          session.subjectId,
          session.csrf,
          session.language,
          now,
          session.expiresAt,
        ],
      );
      return { id, session };
    },
    async get(id) {
      if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
      const { rows } = await deps.db.query<{
        site_id: string;
        subject_id: string;
        csrf: string;
        language: string | null;
        expires_at: number | string;
      }>(
        'SELECT site_id, subject_id, csrf, language, expires_at FROM email_sessions WHERE id_hash = $1 AND expires_at > $2',
        [hashOf(id), deps.now()],
      );
      const r = rows[0];
      return r
        ? {
            siteId: r.site_id,
            subjectId: r.subject_id,
            csrf: r.csrf,
            language: r.language,
            expiresAt: Number(r.expires_at),
          }
        : null;
    },
    async closeAll(siteId, subjectId) {
      const res = await deps.db.query('DELETE FROM email_sessions WHERE site_id = $1 AND subject_id = $2', [
        siteId,
        subjectId,
      ]);
      return res.rowCount;
    },
  };
}
