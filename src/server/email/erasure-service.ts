/**
 * @module
 * "Erase my data": a person asks from the preference page (after a fresh confirmation that can be used once)
 * or the site asks through the admin API; `run()` (`assenso erasure run`, `POST /v1/admin/erasure/run`) carries
 * the requests out: it removes the person's contact data, device links and page sessions, and records what it
 * removed. What stays, as proof (docs/email.md, "Erasure"): the signed receipts and the current opt-in/opt-out
 * state, which hold a pseudonym and choices but no contact data — the site must be able to show that a person
 * opted out, and the transparency log cannot lose leaves without breaking every later proof.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/db.ts';
import { HttpProblem } from '../errors.ts';
import { deleteLink, listSubjectLinks, lockDevices } from '../identity/links-repo.ts';
import type { ContactStore } from '../protection/contact-store.ts';
import type { EmailSite } from './config-schema.ts';
import {
  claimPending,
  completeRequest,
  confirmationWasUsed,
  deleteSubjectEmailData,
  type ErasureRequest,
  insertConfirmation,
  insertRequest,
  listRequests,
  openRequest,
  useConfirmation,
} from './erasure-repo.ts';
import { lockSubject, subjectPreferences } from './preferences-repo.ts';
import type { LinkTokens } from './tokens.ts';
import { preferencesPayload, queueWebhookEvent } from './webhook-events.ts';

/** A confirmation must be used within 15 minutes of the request. */
export const CONFIRMATION_TTL_MS = 15 * 60_000;

/** The confirmation was already used, or has lapsed: ask again. */
export class ConfirmationUsed extends Error {
  override name = 'ConfirmationUsed';
}

export interface ErasureRunResult {
  processed: number;
  requests: ErasureRequest[];
}

export interface ErasureService {
  /** Issues a one-time `erasure-confirm` token for the person (shown on the confirmation step). */
  startConfirmation(siteId: string, subjectId: string): Promise<string>;
  /**
   * Consumes the confirmation and records the request. The same confirmation sent again (a reload, Back and
   * the button again) answers the request it recorded while that is still pending. Token failures throw
   * LinkTokenError subclasses; a confirmation that lapsed unused throws ConfirmationUsed.
   */
  confirm(token: string, expect: { siteId: string; subjectId: string }): Promise<ErasureRequest>;
  /** The person's request not carried out yet, or null. */
  pending(siteId: string, subjectId: string): Promise<ErasureRequest | null>;
  /** Records a request on the site's behalf (admin API). */
  request(siteId: string, subjectId: string): Promise<ErasureRequest>;
  /** Carries out the pending requests (of one site, or all). */
  run(opts?: { siteId?: string; limit?: number }): Promise<ErasureRunResult>;
  list(
    siteId: string,
    opts?: { status?: string; subjectId?: string; limit?: number },
  ): Promise<ErasureRequest[]>;
}

export function createErasureService(deps: {
  db: Db;
  now: () => number;
  tokens: LinkTokens;
  site: (siteId: string) => EmailSite;
  contacts?: ContactStore;
}): ErasureService {
  const { db, now } = deps;

  async function eraseOne(tx: Queryable, req: ErasureRequest): Promise<ErasureRequest> {
    await lockSubject(tx, req.siteId, req.subjectId);
    const contacts = deps.contacts
      ? await deps.contacts.remove(req.siteId, req.subjectId, undefined, tx)
      : (
          await tx.query('DELETE FROM contacts WHERE site_id = $1 AND subject_id = $2', [
            req.siteId,
            req.subjectId,
          ])
        ).rowCount;
    const links = await listSubjectLinks(tx, req.siteId, req.subjectId);
    await lockDevices(
      tx,
      req.siteId,
      links.map((l) => l.deviceId),
    );
    for (const l of links) await deleteLink(tx, req.siteId, l.deviceId);
    const { sessions } = await deleteSubjectEmailData(tx, req.siteId, req.subjectId);
    const result = { contacts, deviceLinks: links.length, sessions };
    const t = now();
    await completeRequest(tx, req.id, t, result);
    let site: EmailSite | undefined;
    try {
      site = deps.site(req.siteId);
    } catch {
      site = undefined; // a site removed from the configuration still gets its people erased
    }
    if (site)
      await queueWebhookEvent(
        tx,
        site,
        {
          type: 'subject.erased',
          subjectId: req.subjectId,
          preferences: preferencesPayload(await subjectPreferences(tx, req.siteId, req.subjectId), t),
        },
        t,
      );
    return { ...req, status: 'done' as const, completedAt: t, result };
  }

  return {
    async startConfirmation(siteId, subjectId) {
      const nonce = randomBytes(18).toString('base64url');
      const t = now();
      await insertConfirmation(db, { nonce, siteId, subjectId, now: t, expiresAt: t + CONFIRMATION_TTL_MS });
      return deps.tokens.issue({
        siteId,
        subjectId,
        action: 'erasure-confirm',
        ttlMs: CONFIRMATION_TTL_MS,
        nonce,
      });
    },

    async confirm(token, expect) {
      const claims = deps.tokens.verify(token, { action: 'erasure-confirm', siteId: expect.siteId });
      if (claims.subjectId !== expect.subjectId || !claims.nonce)
        throw new HttpProblem(403, 'forbidden', 'This confirmation belongs to another person');
      const confirmation = { nonce: claims.nonce, siteId: claims.siteId, subjectId: claims.subjectId };
      return db.transaction(async (tx) => {
        const ok = await useConfirmation(tx, { ...confirmation, now: now() });
        if (!ok) {
          // Used already: by this same confirmation, sent again. Its request is what the person asked for;
          // once carried out, the confirmation is gone with the person's data and this is not reached.
          const replayed = (await confirmationWasUsed(tx, confirmation))
            ? await openRequest(tx, claims.siteId, claims.subjectId)
            : null;
          if (replayed) return replayed;
          throw new ConfirmationUsed('this confirmation was already used or has expired');
        }
        return insertRequest(tx, {
          siteId: claims.siteId,
          subjectId: claims.subjectId,
          now: now(),
          via: 'email-link',
        });
      });
    },

    pending(siteId, subjectId) {
      return openRequest(db, siteId, subjectId);
    },

    request(siteId, subjectId) {
      deps.site(siteId);
      return insertRequest(db, { siteId, subjectId, now: now(), via: 'api' });
    },

    async run(opts = {}) {
      const done: ErasureRequest[] = [];
      const limit = opts.limit ?? 1000;
      while (done.length < limit) {
        // One request per transaction, claimed and carried out in it (another runner skips it): a failure
        // leaves the earlier ones done.
        const erased = await db.transaction(async (tx) => {
          const [next] = await claimPending(tx, opts.siteId ?? null, 1);
          return next ? eraseOne(tx, next) : null;
        });
        if (!erased) break;
        done.push(erased);
      }
      return { processed: done.length, requests: done };
    },

    list(siteId, opts = {}) {
      return listRequests(db, siteId, { limit: 100, ...opts });
    },
  };
}
