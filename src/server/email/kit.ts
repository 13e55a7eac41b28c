/**
 * @module
 * The email-link services, built once from the app's dependencies and shared by the routes
 * (routes/{links,preferences,unsubscribe,renewals,erasure,webhooks}.ts), the commands and the worker.
 */
import type { Context } from 'hono';
import type { ServerConfig } from '../config.ts';
import type { Pseudonymizer } from '../crypto/pseudonym.ts';
import type { Db } from '../db/db.ts';
import { HttpProblem } from '../errors.ts';
import type { Keyring } from '../log/keys.ts';
import type { Protection } from '../protection/protection.ts';
import type { EmailSite } from './config-schema.ts';
import { createErasureService, type ErasureService } from './erasure-service.ts';
import { createLinksService, type LinksService } from './links-service.ts';
import { createPreferencesService, type PreferencesService } from './preferences-service.ts';
import { createRenewalsService, type RenewalsService } from './renewals-service.ts';
import { createPageSessions, type PageSessions } from './sessions.ts';
import { createLinkTokens, type LinkKeySource, type LinkTokenError, type LinkTokens } from './tokens.ts';

/** What the email services are built from (a subset of AppDeps). */
export interface EmailKitDeps {
  db: Db;
  config: ServerConfig;
  keyring: Keyring;
  now: () => number;
  pseudonymizer: Pseudonymizer;
  /** Link-signing keys (email/link-keys.ts); `refresh` picks up a rotation made by another process. */
  linkKeys: LinkKeySource & { refresh?: () => Promise<void> };
  /** Admin keys, access log and encrypted contacts (protection/protection.ts). */
  protection?: Protection;
}

export interface EmailKit {
  deps: EmailKitDeps;
  tokens: LinkTokens;
  preferences: PreferencesService;
  links: LinksService;
  sessions: PageSessions;
  erasure: ErasureService;
  renewals: RenewalsService;
  site(siteId: string): EmailSite;
  /** Every configured site, as the email services see it. */
  sites(): EmailSite[];
  /** Reloads rotated link keys (file-backed key sources) before a token is checked. */
  refreshKeys(): Promise<void>;
  /** The origin links start with: `publicUrl`, else the request's own. */
  baseUrl(c: Context): string;
}

export function createEmailKit(deps: EmailKitDeps): EmailKit {
  const tokens = createLinkTokens({ keys: deps.linkKeys, now: deps.now });
  const preferences = createPreferencesService(deps);
  const site = preferences.site;
  const contacts = deps.protection?.contacts ?? undefined;
  const links = createLinksService({
    site,
    tokens,
    pseudonymizer: deps.pseudonymizer,
    ...(contacts ? { contacts } : {}),
  });
  return {
    deps,
    tokens,
    preferences,
    links,
    sessions: createPageSessions({ db: deps.db, now: deps.now }),
    erasure: createErasureService({
      db: deps.db,
      now: deps.now,
      tokens,
      site,
      ...(contacts ? { contacts } : {}),
    }),
    renewals: createRenewalsService({ db: deps.db, now: deps.now, links, ...(contacts ? { contacts } : {}) }),
    site,
    sites: () => deps.config.sites as unknown as EmailSite[],
    refreshKeys: async () => {
      await deps.linkKeys.refresh?.();
    },
    baseUrl: (c) => (deps.config.publicUrl ?? new URL(c.req.url).origin).replace(/\/+$/, ''),
  };
}

/** HTTP status of each token failure. */
export function tokenErrorStatus(err: LinkTokenError): 401 | 403 | 410 {
  if (err.code === 'token-expired') return 410;
  if (err.code === 'token-wrong-action' || err.code === 'token-wrong-site') return 403;
  return 401;
}

/** A token failure as problem details. */
export function tokenProblem(err: LinkTokenError): HttpProblem {
  return new HttpProblem(tokenErrorStatus(err), err.code, err.message);
}
