// "No consent outlives 13 months on the server" (docs/protocol.md, "Expired consent"), on PGlite and PostgreSQL
// with a controlled clock: a receipt may name any expiry and is stored and signed exactly as sent, but none of
// its categories or services counts beyond 395 days after the receipt's time: GET /v1/consent for a device and
// for a linked person, identify's answer, the first-party cookie, the auditor's export (NDJSON, Kantara), the
// per-person export, and the stored device state (also rows stored before migration 008). A 6-month receipt,
// and a communication purpose the site keeps 730 days, behave as before.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LIFETIME_DAYS as WIDGET_MAX_LIFETIME_DAYS } from '../../src/core/config.ts';
import type { BatchResponse, ConsentStateResponse } from '../../src/protocol/api.ts';
import type { LinkedResponse } from '../../src/protocol/identity.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { createPseudonymizer } from '../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../src/server/db/db.ts';
import { migrate } from '../../src/server/db/migrate.ts';
import { signIdentity } from '../../src/server/identity-token.ts';
import { exportReceipts } from '../../src/server/log/export.ts';
import type { KantaraReceipt } from '../../src/server/log/kantara.ts';
import { exportSubject } from '../../src/server/protection/subject-export.ts';
import { MAX_LIFETIME_DAYS } from '../../src/server/services/consent-lifetime.ts';
import { databases } from '../helpers/databases.ts';
import { emailApp } from './email/fixtures.ts';
import {
  buildApp,
  DB_START_TIMEOUT,
  makeReceipt,
  postReceipts,
  SHOP,
  SHOP_ORIGIN,
  testConfig,
} from './helpers.ts';
import { KID, PSEUDONYM_SECRET, SECRET } from './identity/fixtures.ts';

const DAY = 86_400_000;
const CENTURY = 100 * 365 * DAY;
const CAP = 395 * DAY;
const device = () => randomBytes(16).toString('hex');

it('the server’s longest lifetime is the widget’s (13 months)', () => {
  expect(MAX_LIFETIME_DAYS).toBe(WIDGET_MAX_LIFETIME_DAYS);
  expect(MAX_LIFETIME_DAYS).toBe(395);
});

describe.each(databases)('the longest consent lifetime on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    function app(extra: Record<string, unknown> = {}) {
      const config = testConfig(extra);
      const shop = config.sites.find((s) => s.id === SHOP);
      if (shop) shop.identity = { secrets: { [KID]: SECRET } };
      return buildApp(db, { config, pseudonymizer: createPseudonymizer(PSEUDONYM_SECRET) });
    }
    type Built = ReturnType<typeof app>;

    const consentOf = async (built: Built, dev: string) => {
      const res = await built.app.request(`/v1/consent?site=${SHOP}&device=${dev}`);
      expect(res.status).toBe(200);
      return (await res.json()) as ConsentStateResponse;
    };

    /** A decision of `dev` made now, every choice (and the receipt) expiring after `lifetime`. */
    const decide = async (
      built: Built,
      dev: string | null,
      lifetime: number,
      over: Partial<Receipt> = {},
    ) => {
      const now = built.deps.now();
      const receipt = makeReceipt(SHOP, {
        deviceId: dev,
        collectedAt: now,
        categories: { necessary: true, analytics: true, ads: false },
        services: { matomo: true },
        expiries: {
          necessary: now + lifetime,
          analytics: now + lifetime,
          ads: now + lifetime,
          matomo: now + lifetime,
        },
        expiresAt: now + lifetime,
        ...over,
      });
      const res = await postReceipts(
        built.app,
        { receipts: [receipt] },
        { origin: SHOP_ORIGIN, headers: { host: 'shop.example' } },
      );
      expect(res.status).toBe(200);
      const [result] = ((await res.json()) as BatchResponse).results;
      expect(result?.status).toBe(201);
      return { receipt, now, res, signed: result && 'signed' in result ? result.signed : undefined };
    };

    /** The stored entry of a receipt, as signed. */
    const storedEntry = async (receiptId: string) => {
      const { rows } = await db.query<{ entry: string }>('SELECT entry FROM receipts WHERE receipt_id = $1', [
        receiptId,
      ]);
      return JSON.parse(rows[0]?.entry ?? 'null') as { receipt: Receipt; receivedAt: number };
    };

    /** The device's stored state: kind:item → expires_at. */
    const storedExpiries = async (dev: string) => {
      const { rows } = await db.query<{ kind: string; item_id: string; expires_at: string }>(
        'SELECT kind, item_id, expires_at FROM device_consent WHERE site_id = $1 AND device_id = $2',
        [SHOP, dev],
      );
      return Object.fromEntries(rows.map((r) => [`${r.kind}:${r.item_id}`, Number(r.expires_at)]));
    };

    it('GET /v1/consent: a 100-year expiry counts for 395 days, a 6-month one as sent; the receipt is stored as sent', async () => {
      const built = app();
      const [forever, halfYear] = [device(), device()];
      const long = await decide(built, forever, CENTURY);
      const short = await decide(built, halfYear, 182 * DAY);
      const { now } = long;

      // Evidence: the stored and the signed receipt are exactly what the device sent, 100 years and all.
      expect(long.signed?.receipt).toEqual(long.receipt);
      expect(await storedEntry(long.receipt.receiptId)).toEqual({ receipt: long.receipt, receivedAt: now });

      // The derived state, stored and answered, counts 395 days from the receipt's time.
      const bounded = { necessary: now + CAP, analytics: now + CAP, ads: now + CAP, matomo: now + CAP };
      expect(await storedExpiries(forever)).toEqual({
        'receipt:': now + CAP,
        'category:necessary': now + CAP,
        'category:analytics': now + CAP,
        'category:ads': now + CAP,
        'service:matomo': now + CAP,
      });
      const fresh = (await consentOf(built, forever)).decision;
      expect(fresh?.expiries).toEqual(bounded);
      expect(fresh?.expiresAt).toBe(now + CAP);
      expect((await consentOf(built, halfYear)).decision?.expiries).toEqual(short.receipt.expiries);

      built.advance(182 * DAY); // the 6-month decision lapses exactly as before
      const lapsed = (await consentOf(built, halfYear)).decision;
      expect(lapsed?.categories).toEqual({ necessary: false, analytics: false, ads: false });
      expect(lapsed?.expired).toEqual({
        necessary: now + 182 * DAY,
        analytics: now + 182 * DAY,
        matomo: now + 182 * DAY,
      });
      expect((await consentOf(built, forever)).decision?.categories.analytics).toBe(true);

      built.advance(CAP - 182 * DAY - 1); // the last millisecond of the 13 months
      expect((await consentOf(built, forever)).decision?.categories.analytics).toBe(true);

      built.advance(1 + DAY); // 396 days on: the 100-year consent no longer holds
      const gone = (await consentOf(built, forever)).decision;
      expect(gone?.categories).toEqual({ necessary: false, analytics: false, ads: false });
      expect(gone?.services).toEqual({ matomo: false });
      expect(gone?.expired).toEqual({ necessary: now + CAP, analytics: now + CAP, matomo: now + CAP });
      expect(gone?.expiresAt).toBe(now + CAP);
      expect(await storedEntry(long.receipt.receiptId)).toEqual({ receipt: long.receipt, receivedAt: now });
    });

    it('a clock ahead and a 100-year expiry: 395 days from the server’s time (+ 60 s), never more', async () => {
      const built = app();
      const dev = device();
      const receivedAt = built.deps.now();
      const collectedAt = receivedAt + 30 * DAY;
      await decide(built, dev, CENTURY, {
        collectedAt,
        expiresAt: collectedAt + CENTURY,
        expiries: { analytics: collectedAt + CENTURY, necessary: collectedAt + 30 * DAY },
      });
      const decision = (await consentOf(built, dev)).decision;
      // The clock is believed up to 60 s ahead; the 30-day choice keeps its 30 days from there.
      expect(decision?.expiries).toEqual({
        necessary: receivedAt + 60_000 + 30 * DAY,
        analytics: receivedAt + 60_000 + CAP,
        ads: receivedAt + 60_000 + CAP,
        matomo: receivedAt + 60_000 + CAP,
      });
    });

    it('a linked person’s consent and identify’s answer count the 100-year grant 395 days', async () => {
      const built = app();
      const [desk, phone, tablet] = [device(), device(), device()];
      const identify = async (dev: string) => {
        const token = signIdentity({
          secret: SECRET,
          kid: KID,
          siteId: SHOP,
          userId: 'ada',
          now: built.deps.now,
        });
        const res = await built.app.request('/v1/identify', {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          body: JSON.stringify({ siteId: SHOP, deviceId: dev, token }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as LinkedResponse;
      };
      await identify(desk);
      await identify(phone);
      const { now, receipt } = await decide(built, desk, CENTURY);
      const state = await consentOf(built, phone);
      expect(state.subjectId).not.toBeNull();
      expect(state.decision?.categories.analytics).toBe(true);
      expect(state.decision?.expiries?.analytics).toBe(now + CAP);
      expect(state.decision?.expiresAt).toBe(now + CAP);

      built.advance(396 * DAY);
      const later = await consentOf(built, phone);
      expect(later.decision?.categories).toEqual({ necessary: false, analytics: false, ads: false });
      expect(later.decision?.expired).toEqual({
        necessary: now + CAP,
        analytics: now + CAP,
        matomo: now + CAP,
      });
      const linked = await identify(tablet);
      expect(linked.consent.decision?.categories.analytics).toBe(false);
      expect(linked.consent.decision?.expired?.analytics).toBe(now + CAP);

      // "Download my data": the receipt as signed, and what it grants 396 days on: nothing.
      const doc = await exportSubject(
        { db, now: built.deps.now },
        { siteId: SHOP, subjectId: later.subjectId as string, contacts: 'none' },
      );
      const [exported] = doc.receipts;
      expect(exported?.entry).toEqual({ receipt, receivedAt: now });
      expect(exported?.effective).toMatchObject({
        expired: true,
        categories: { necessary: false, analytics: false, ads: false },
        expiredAt: { necessary: now + CAP, analytics: now + CAP, matomo: now + CAP },
      });
    });

    it('the first-party cookie lasts 395 days and carries no longer expiry; a 6-month one as sent', async () => {
      const built = app({
        sites: [{ id: SHOP, origins: [SHOP_ORIGIN], firstPartyCookie: { name: 'assenso' } }],
      });
      const cookieOf = (res: Response) => {
        const [pair, ...attributes] = (res.headers.get('set-cookie') ?? '').split('; ');
        return {
          value: Object.fromEntries(new URLSearchParams(pair?.slice('assenso='.length))),
          maxAge: Number(attributes.find((a) => a.startsWith('Max-Age='))?.slice('Max-Age='.length)),
        };
      };
      const long = await decide(built, device(), CENTURY);
      const short = await decide(built, device(), 182 * DAY);
      const { now } = long;
      const forever = cookieOf(long.res);
      expect(forever.maxAge).toBe(395 * 86_400);
      expect(forever.value.x).toBe(String(now + CAP));
      expect(forever.value.c?.split('.').sort()).toEqual([
        `ads:0:${now + CAP}`,
        `analytics:1:${now + CAP}`,
        `necessary:1:${now + CAP}`,
      ]);
      const halfYear = cookieOf(short.res);
      expect(halfYear.maxAge).toBe(182 * 86_400);
      expect(halfYear.value.x).toBe(String(short.receipt.expiresAt));
    });

    it('the auditor’s export: the receipt as signed, `effective` counting 395 days (communication purposes their own)', async () => {
      const built = app();
      const long = await decide(built, device(), CENTURY);
      const short = await decide(built, device(), 182 * DAY);
      const { now } = long;
      // Communication preferences posted by a backend: a purpose may be configured up to 3650 days, so a
      // 2-year one holds past 13 months; a 100-year one counts 3650 days.
      const email = await decide(built, null, 730 * DAY, {
        method: 'api',
        categories: {},
        services: {},
        preferences: { newsletter: { email: true }, forever: { email: true } },
        expiries: { newsletter: now + 730 * DAY, forever: now + CENTURY },
        expiresAt: now + 730 * DAY,
      });
      const ids = [long, short, email].map((r) => r.receipt.receiptId);
      const exported = async (asOf: number) => {
        let out = '';
        await exportReceipts({
          db,
          keyring: built.deps.keyring,
          siteId: SHOP,
          format: 'ndjson',
          kantara: {},
          asOf,
          write: (chunk) => {
            out += chunk;
          },
        });
        const lines = out
          .trimEnd()
          .split('\n')
          .slice(1)
          .map((l) => JSON.parse(l));
        return ids.map((id) => lines.find((l) => l.receiptId === id));
      };

      const [l100, s100, e100] = await exported(now + 100 * DAY);
      expect(l100.effective.categories.analytics).toBe(true);
      expect(s100.effective.categories.analytics).toBe(true);
      expect(e100.effective.preferences).toEqual({ newsletter: { email: true }, forever: { email: true } });

      const [l, s, e] = await exported(now + 396 * DAY);
      expect(l.signed.receipt).toEqual(long.receipt);
      expect(l.effective).toEqual({
        asOf: now + 396 * DAY,
        expired: true,
        categories: { necessary: false, analytics: false, ads: false },
        services: { matomo: false },
        expiredAt: { necessary: now + CAP, analytics: now + CAP, matomo: now + CAP },
      });
      expect((l.kantara as KantaraReceipt).assenso.effective?.expiredAt.analytics).toBe(now + CAP);
      expect(s.effective.expiredAt).toEqual({
        necessary: now + 182 * DAY,
        analytics: now + 182 * DAY,
        matomo: now + 182 * DAY,
      });
      expect(e.effective).toMatchObject({
        expired: false,
        preferences: { newsletter: { email: true }, forever: { email: true } },
      });

      const [, , late] = await exported(now + 3650 * DAY);
      expect(late.signed.receipt).toEqual(email.receipt);
      expect(late.effective.preferences).toEqual({ newsletter: { email: false }, forever: { email: false } });
      expect(late.effective.expiredAt).toEqual({
        'newsletter.email': now + 730 * DAY,
        'forever.email': now + 3650 * DAY,
      });
    });

    it('migration 008 bounds the device state stored before it; 6-month rows are untouched', async () => {
      const built = app();
      const [forever, halfYear] = [device(), device()];
      const long = await decide(built, forever, CENTURY);
      const short = await decide(built, halfYear, 182 * DAY);
      const { now } = long;
      // As the server stored them before: each choice until the expiry its receipt names.
      await db.query(`UPDATE device_consent SET expires_at = $1 WHERE site_id = $2 AND device_id = $3`, [
        now + CENTURY,
        SHOP,
        forever,
      ]);
      const before = await storedExpiries(halfYear);
      await db.query(`DELETE FROM assenso_migrations WHERE name LIKE '008-%'`);
      expect((await migrate(db)).filter((m) => m.startsWith('008-'))).toEqual(['008-lifetime-cap.sql']);
      expect(Object.values(await storedExpiries(forever))).toEqual(Array(5).fill(now + CAP));
      expect(await storedExpiries(halfYear)).toEqual(before);
      expect(Object.values(before)).toEqual(Array(5).fill(short.receipt.expiresAt));
      built.advance(396 * DAY);
      expect((await consentOf(built, forever)).decision?.categories.analytics).toBe(false);
    });

    it('a communication purpose kept 730 days by the site: preference state and renewal list as before', async () => {
      // The server's own email receipts: the purpose's configured lifetime, not the widget's 13 months.
      const { kit, clock, pseudonymizer } = await emailApp(db);
      const subjectId = pseudonymizer.subjectId('shop', `user-${device()}`);
      const start = clock.now();
      await kit.preferences.decide({
        siteId: 'shop',
        subjectId,
        method: 'email-link',
        language: 'en',
        choices: { catalogue: { post: true } },
      });
      clock.advance(396 * DAY);
      const view = await kit.preferences.view('shop', subjectId);
      expect(view.find((i) => i.purpose === 'catalogue')).toMatchObject({
        granted: true,
        expired: false,
        expiresAt: start + 730 * DAY,
      });
      const page = await kit.renewals.list({
        siteId: 'shop',
        due: start + 731 * DAY,
        baseUrl: 'https://consent.example',
        limit: 5000,
      });
      const entry = page.entries.find((e) => e.subjectId === subjectId);
      expect(entry?.expiring).toEqual([
        { purpose: 'catalogue', channel: 'post', expiresAt: start + 730 * DAY, expired: false },
      ]);
    });
  });
});
