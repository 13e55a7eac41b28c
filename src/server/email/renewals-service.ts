/**
 * @module
 * Renewal campaigns: who has consents that expire by a date, per purpose × channel, with fresh links (the
 * renewal URL opens the preference page on its one-click "keep my choices" step, which records a `renewal`
 * receipt). Grants already expired are listed too (flagged), since they count as denied until renewed.
 */
import type { Db } from '../db/db.ts';
import type { ContactStore } from '../protection/contact-store.ts';
import type { LinksService, PersonLinks } from './links-service.ts';
import { expiringGrants } from './preferences-repo.ts';

export interface RenewalEntry {
  subjectId: string;
  /** Earliest expiry among the listed grants (epoch ms). */
  expiresAt: number;
  expiring: { purpose: string; channel: string; expiresAt: number; expired: boolean }[];
  links: Pick<PersonLinks, 'renewalUrl' | 'preferencesUrl' | 'unsubscribeUrl'>;
  /** The address to write to, when asked for and stored (null: none stored, or unreadable). */
  email?: string | null;
}

export interface RenewalPage {
  due: number;
  entries: RenewalEntry[];
  /** Cursor for the next page, or null at the end. */
  next: string | null;
}

export interface RenewalsService {
  list(input: {
    siteId: string;
    due: number;
    baseUrl: string;
    after?: string;
    limit?: number;
    /** Include the stored email address (decrypted: callers check the role and log the access). */
    withEmail?: boolean;
  }): Promise<RenewalPage>;
}

/** Parses a due date: an ISO date/time, or a span from now (`30d`, `12h`, `2w`). */
export function parseDue(text: string, now: number): number | null {
  const span = /^(\d{1,5})([hdw])$/.exec(text.trim());
  if (span) {
    const unit = { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[span[2] as 'h' | 'd' | 'w'];
    return now + Number(span[1]) * unit;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return null;
  // A bare date means the end of that day (UTC): "due 2026-05-01" includes what expires on the 1st.
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T23:59:59.999Z` : text);
  return Number.isNaN(ms) ? null : ms;
}

export function createRenewalsService(deps: {
  db: Db;
  now: () => number;
  links: LinksService;
  contacts?: ContactStore;
}): RenewalsService {
  return {
    async list(input) {
      const limit = Math.min(Math.max(input.limit ?? 500, 1), 5000);
      const now = deps.now();
      const grouped = await expiringGrants(deps.db, input.siteId, input.due, {
        ...(input.after ? { after: input.after } : {}),
        limit,
      });
      const entries: RenewalEntry[] = [];
      for (const [subjectId, rows] of grouped) {
        const links = await deps.links.mint({ siteId: input.siteId, subjectId, baseUrl: input.baseUrl });
        const entry: RenewalEntry = {
          subjectId,
          expiresAt: Math.min(...rows.map((r) => r.expiresAt)),
          expiring: rows.map((r) => ({
            purpose: r.purpose,
            channel: r.channel,
            expiresAt: r.expiresAt,
            expired: r.expiresAt <= now,
          })),
          links: {
            renewalUrl: links.renewalUrl,
            preferencesUrl: links.preferencesUrl,
            unsubscribeUrl: links.unsubscribeUrl,
          },
        };
        if (input.withEmail) {
          try {
            entry.email = (await deps.contacts?.get(input.siteId, subjectId, 'email')) ?? null;
          } catch {
            entry.email = null;
          }
        }
        entries.push(entry);
      }
      const last = [...grouped.keys()].at(-1);
      return { due: input.due, entries, next: grouped.size === limit && last ? last : null };
    },
  };
}
