/**
 * @module
 * Minting a person's email links: the preference-center URL, the one-click unsubscribe URL (RFC 8058) and the
 * renewal URL, for the site's email system (`POST /v1/admin/links`, `assenso links`, renewal campaigns).
 * The subject is the pseudonym of site + the site's user id (the same identity linking computes); an email
 * address given with the request is kept encrypted in the contact store, found later only by its keyed hash.
 */
import type { Pseudonymizer } from '../crypto/pseudonym.ts';
import { HttpProblem } from '../errors.ts';
import type { ContactStore } from '../protection/contact-store.ts';
import type { EmailSite, PageLanguage } from './config-schema.ts';
import { type ListUnsubscribeHeaders, listUnsubscribeHeaders } from './list-unsubscribe.ts';
import type { LinkTokens } from './tokens.ts';

const DAY_MS = 86_400_000;
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+\.[^\s@<>,]+$/;

export interface PersonLinks {
  subjectId: string;
  preferencesUrl: string;
  unsubscribeUrl: string;
  /** The preference page opened on its one-click "keep my choices" step (renewal campaigns). */
  renewalUrl: string;
  listUnsubscribeHeaders: ListUnsubscribeHeaders;
  /** Epoch ms. */
  expiresAt: { preferences: number; unsubscribe: number };
}

export interface MintInput {
  siteId: string;
  /** The site's own user id (becomes the pseudonymous subject); or give `subjectId`. */
  userId?: string;
  subjectId?: string;
  email?: string;
  /** Limits the unsubscribe link to these purposes (one mailing list); default every purpose. */
  purposes?: string[];
  language?: PageLanguage;
  /** Origin the URLs start with (config `publicUrl`, else the request's). */
  baseUrl: string;
}

export interface LinksService {
  mint(input: MintInput): Promise<PersonLinks>;
}

export function createLinksService(deps: {
  site: (siteId: string) => EmailSite;
  tokens: LinkTokens;
  pseudonymizer: Pseudonymizer;
  contacts?: ContactStore;
}): LinksService {
  return {
    async mint(input) {
      const site = deps.site(input.siteId);
      if (!input.userId === !input.subjectId)
        throw new HttpProblem(422, 'invalid-request', 'Give exactly one of userId and subjectId');
      if (input.userId !== undefined && (input.userId.length < 1 || input.userId.length > 256))
        throw new HttpProblem(422, 'invalid-request', 'userId must be 1 to 256 characters');
      for (const p of input.purposes ?? [])
        if (!site.purposes.some((sp) => sp.id === p))
          throw new HttpProblem(422, 'invalid-request', `Unknown purpose ${p}`, {
            errors: [`purposes: ${p}`],
          });
      if (input.email !== undefined && (!EMAIL.test(input.email) || input.email.length > 320))
        throw new HttpProblem(422, 'invalid-request', 'email is not an email address');
      const subjectId = input.subjectId ?? deps.pseudonymizer.subjectId(site.id, input.userId!);
      if (input.email !== undefined) {
        if (!deps.contacts) throw new HttpProblem(503, 'unavailable', 'No contact-data keys are configured');
        await deps.contacts.put({ siteId: site.id, subjectId, kind: 'email', value: input.email });
      }
      // Only the mailer's word: a link that carries no language leaves the page to the browser's Accept-Language,
      // then the site's emailLinks.language (docs/email.md). Minted with the site's language, every link carried
      // one, and a site that never set it (English by default) showed English pages to Italian browsers.
      const language = input.language;
      const base = input.baseUrl.replace(/\/+$/, '');
      const prefTtl = site.emailLinks.preferencesTtlDays * DAY_MS;
      const unsubTtl = site.emailLinks.unsubscribeTtlDays * DAY_MS;
      const common = { siteId: site.id, subjectId, ...(language ? { language } : {}) };
      const pref = deps.tokens.issue({ ...common, action: 'preferences', ttlMs: prefTtl });
      const unsub = deps.tokens.issue({
        ...common,
        action: 'unsubscribe',
        ttlMs: unsubTtl,
        ...(input.purposes?.length ? { purposes: input.purposes } : {}),
      });
      const preferencesUrl = `${base}/p/${pref}`;
      const unsubscribeUrl = `${base}/u/${unsub}`;
      const claims = deps.tokens.verify(unsub, { action: 'unsubscribe' });
      return {
        subjectId,
        preferencesUrl,
        unsubscribeUrl,
        renewalUrl: `${preferencesUrl}?renew=1`,
        listUnsubscribeHeaders: listUnsubscribeHeaders({
          unsubscribeUrl,
          ...(site.emailLinks.mailto ? { mailto: site.emailLinks.mailto } : {}),
        }),
        expiresAt: {
          preferences: deps.tokens.verify(pref, { action: 'preferences' }).expiresAt,
          unsubscribe: claims.expiresAt,
        },
      };
    },
  };
}
