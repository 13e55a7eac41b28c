import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { createApp } from '../../../src/server/app.ts';
import { parseConfig, type ServerConfig } from '../../../src/server/config.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { generateLinkKey, rotateLinkKeys, staticLinkKeys } from '../../../src/server/email/link-keys.ts';
import type { PersonLinks } from '../../../src/server/email/links-service.ts';
import { emailKitOf } from '../../../src/server/email/mount.ts';
import { parseContactKeys } from '../../../src/server/protection/contact-crypto.ts';
import { createProtection } from '../../../src/server/protection/protection.ts';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';

export const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
export const DAY = 86_400_000;

/** A site with two purposes on two channels each, and a third on post only. */
export function emailConfig(extra: { webhooks?: unknown[] } = {}): ServerConfig {
  return parseConfig({
    publicUrl: 'https://consent.example',
    rateLimit: false,
    sites: [
      {
        id: 'shop',
        name: 'Shop & Co',
        origins: ['https://shop.example'],
        channels: ['email', 'sms', 'post'],
        purposes: [
          {
            id: 'newsletter',
            title: { it: 'Newsletter', en: 'Newsletter' },
            description: { en: 'News once a month', it: 'Notizie una volta al mese' },
            channels: ['email', 'sms'],
            lifetimeDays: 365,
          },
          {
            id: 'offers',
            title: { it: 'Offerte', en: 'Offers' },
            channels: ['email', 'sms'],
            lifetimeDays: 30,
          },
          { id: 'catalogue', title: 'Catalogue', channels: ['post'], lifetimeDays: 730 },
        ],
        emailLinks: { language: 'it' },
        webhooks: extra.webhooks ?? [],
      },
      {
        id: 'blog',
        origins: ['https://blog.example'],
        purposes: [{ id: 'digest', title: 'Digest', channels: ['email'] }],
      },
    ],
  });
}

/** A mutable clock starting at T0. */
export function testClock() {
  let t = T0;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

export function testSecrets() {
  return { keyring: createMemoryKeyring(T0), pseudonymizer: createPseudonymizer(randomBytes(32)) };
}

/** The whole app with email links, protection and a log capture, on the given database. */
export async function emailApp(db: Db, opts: { config?: ServerConfig } = {}) {
  const clock = testClock();
  const { keyring, pseudonymizer } = testSecrets();
  let storedKeys = [generateLinkKey(T0 - DAY)];
  let keys = staticLinkKeys(storedKeys, clock.now);
  const linkKeys = {
    current: () => keys.current(),
    get: (kid: string) => keys.get(kid),
  };
  const protection = createProtection({
    db,
    keyring,
    now: clock.now,
    contactKeys: parseContactKeys({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
    pseudonymizer,
  });
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const config = opts.config ?? emailConfig();
  const app = createApp({ db, config, keyring, now: clock.now, logger, pseudonymizer, linkKeys, protection });
  const admin = (await protection.adminKeys.create({ role: 'admin' })).token;
  const operator = (await protection.adminKeys.create({ role: 'operator' })).token;
  const kit = emailKitOf({
    db,
    config,
    keyring,
    now: clock.now,
    logger,
    pseudonymizer,
    linkKeys,
    protection,
  })!;
  return {
    app,
    kit,
    clock,
    pseudonymizer,
    protection,
    logs: () => lines.join(''),
    /** Rotates the link keys; with `retire`, the previous keys are retired (their links revoked). */
    rotateLinkKeys(retire: boolean) {
      storedKeys = rotateLinkKeys(storedKeys, clock.now(), retire);
      keys = staticLinkKeys(storedKeys, clock.now);
    },
    adminHeaders: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    operatorHeaders: { Authorization: `Bearer ${operator}` },
  };
}

export type EmailApp = Awaited<ReturnType<typeof emailApp>>;

/** Mints links through the admin API. */
export async function mintLinks(t: EmailApp, body: Record<string, unknown>) {
  const res = await t.app.request('/v1/admin/links', {
    method: 'POST',
    headers: t.adminHeaders,
    body: JSON.stringify({ site: 'shop', ...body }),
  });
  if (res.status !== 201) throw new Error(`links: ${res.status} ${await res.text()}`);
  return (await res.json()) as PersonLinks;
}

/** Opens a preference link like a browser: follows the 303 and keeps the cookie. */
export async function openLink(t: EmailApp, url: string) {
  const u = new URL(url);
  const res = await t.app.request(`${u.pathname}${u.search}`);
  const cookie = res.headers.get('set-cookie')?.split(';')[0] ?? '';
  return { res, cookie };
}

/** The CSRF token of the page the cookie opens. */
export async function pageCsrf(t: EmailApp, cookie: string): Promise<string> {
  const html = await (await t.app.request('/p', { headers: { Cookie: cookie } })).text();
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf on the page');
  return m[1];
}

/** Posts a page form (urlencoded) with the session cookie. */
export function postForm(
  t: EmailApp,
  path: string,
  cookie: string,
  fields: [string, string][],
  accept = 'text/html',
) {
  return t.app.request(path, {
    method: 'POST',
    headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', Accept: accept },
    body: new URLSearchParams(fields).toString(),
  });
}
