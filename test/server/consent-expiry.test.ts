// "An expired consent counts as denied everywhere" (issue 5), on PGlite and PostgreSQL with a controlled
// clock: GET /v1/consent for a device and for a linked person, identify's answer, the auditor's export (NDJSON,
// CSV, Kantara) and the per-person export. The email preference state has its own test
// (email/preferences.test.ts, "An expired grant counts as denied").
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentStateResponse } from '../../src/protocol/api.ts';
import type { LinkedResponse } from '../../src/protocol/identity.ts';
import { createPseudonymizer } from '../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../src/server/db/db.ts';
import { signIdentity } from '../../src/server/identity-token.ts';
import { exportReceipts } from '../../src/server/log/export.ts';
import type { KantaraReceipt } from '../../src/server/log/kantara.ts';
import { createMemoryKeyring } from '../../src/server/log/keys.ts';
import { exportSubject } from '../../src/server/protection/subject-export.ts';
import { receiptEffect } from '../../src/server/services/consent-expiry.ts';
import { databases } from '../helpers/databases.ts';
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
import { insertReceipt, makeReceipt as logReceipt } from './log/fixtures.ts';

const DAY = 86_400_000;
const device = () => randomBytes(16).toString('hex');

describe.each(databases)('expired consent counts as denied on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    function app() {
      const config = testConfig();
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
    /** A decision of `dev`: analytics granted for a day, ads refused for a day, the rest for 30 days. */
    const decide = async (built: Built, dev: string) => {
      const now = built.deps.now();
      const receipt = makeReceipt(SHOP, {
        deviceId: dev,
        collectedAt: now,
        categories: { necessary: true, analytics: true, ads: false },
        services: { matomo: true },
        expiries: { analytics: now + DAY, ads: now + DAY },
        expiresAt: now + 30 * DAY,
      });
      const res = await postReceipts(built.app, { receipts: [receipt] }, { origin: SHOP_ORIGIN });
      expect(res.status).toBe(200);
      return { receipt, now };
    };

    it('GET /v1/consent for a device: an expired grant reads false and is listed with its time; a refusal is not "expired"', async () => {
      const built = app();
      const dev = device();
      const { now } = await decide(built, dev);

      const fresh = (await consentOf(built, dev)).decision;
      expect(fresh?.categories).toEqual({ necessary: true, analytics: true, ads: false });
      expect(fresh?.expired).toBeUndefined();
      expect(fresh?.expiries).toEqual({
        necessary: now + 30 * DAY,
        analytics: now + DAY,
        ads: now + DAY,
        matomo: now + 30 * DAY,
      });
      expect(fresh?.expiresAt).toBe(now + DAY);

      built.advance(DAY); // the very millisecond of expiry: no longer granted
      const lapsed = (await consentOf(built, dev)).decision;
      expect(lapsed?.categories).toEqual({ necessary: true, analytics: false, ads: false });
      expect(lapsed?.services).toEqual({ matomo: true });
      expect(lapsed?.expired).toEqual({ analytics: now + DAY });

      built.advance(30 * DAY);
      const all = (await consentOf(built, dev)).decision;
      expect(all?.categories).toEqual({ necessary: false, analytics: false, ads: false });
      expect(all?.services).toEqual({ matomo: false });
      expect(all?.expired).toEqual({
        necessary: now + 30 * DAY,
        analytics: now + DAY,
        matomo: now + 30 * DAY,
      });
    });

    it('GET /v1/consent for a linked person, and identify’s answer, count the expired grant as denied', async () => {
      const built = app();
      const [desk, phone, tablet] = [device(), device(), device()];
      const token = () =>
        signIdentity({ secret: SECRET, kid: KID, siteId: SHOP, userId: 'eve', now: built.deps.now });
      const identify = async (dev: string) => {
        const res = await built.app.request('/v1/identify', {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          body: JSON.stringify({ siteId: SHOP, deviceId: dev, token: token() }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as LinkedResponse;
      };
      await identify(desk);
      await identify(phone);
      const { now } = await decide(built, desk);
      expect((await consentOf(built, phone)).decision?.categories.analytics).toBe(true);

      built.advance(2 * DAY);
      const state = await consentOf(built, phone);
      expect(state.subjectId).not.toBeNull();
      expect(state.decision?.categories).toEqual({ necessary: true, analytics: false, ads: false });
      expect(state.decision?.expired).toEqual({ analytics: now + DAY });
      expect(state.decision?.expiries?.analytics).toBe(now + DAY);
      expect(state.decision?.expiresAt).toBe(now + DAY);
      const linked = await identify(tablet);
      expect(linked.consent.decision?.categories.analytics).toBe(false);
      expect(linked.consent.decision?.expired).toEqual({ analytics: now + DAY });
    });

    describe('exports keep the signed receipt and add its state at the export’s time', () => {
      const keyring = createMemoryKeyring();
      const T = 1_770_000_000_000;
      const site = `x${randomBytes(4).toString('hex')}`;
      let banner: Awaited<ReturnType<typeof insertReceipt>>;
      let email: Awaited<ReturnType<typeof insertReceipt>>;
      const subjectId = `s_${randomBytes(32).toString('base64url').slice(0, 43)}`;

      beforeAll(async () => {
        banner = await insertReceipt(db, keyring, site, T, {
          collectedAt: T,
          categories: { necessary: true, analytics: true, ads: false },
          services: { matomo: true },
          expiries: { analytics: T + DAY, ads: T + DAY },
          expiresAt: T + 30 * DAY,
        });
        email = await insertReceipt(db, keyring, site, T + 1, {
          deviceId: null,
          method: 'email-link',
          collectedAt: T,
          categories: {},
          services: {},
          preferences: { newsletter: { email: true, sms: false }, offers: { email: true } },
          expiries: { newsletter: T + 365 * DAY, offers: T + DAY },
          expiresAt: T + DAY,
        });
        await db.query('UPDATE receipts SET subject_id = $1 WHERE receipt_id = $2', [
          subjectId,
          email.receiptId,
        ]);
        for (const [purpose, channel, granted, expiresAt] of [
          ['newsletter', 'email', true, T + 365 * DAY],
          ['offers', 'email', true, T + DAY],
          ['newsletter', 'sms', false, T + 365 * DAY],
        ] as const)
          await db.query(
            `INSERT INTO email_preferences (site_id, subject_id, purpose, channel, granted, receipt_id, method, received_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'email-link', $7, $8)`,
            [site, subjectId, purpose, channel, granted, email.receiptId, T + 1, expiresAt],
          );
      });

      async function ndjson(asOf: number) {
        let out = '';
        await exportReceipts({
          db,
          keyring,
          siteId: site,
          format: 'ndjson',
          kantara: {},
          asOf,
          write: (chunk) => {
            out += chunk;
          },
        });
        return out
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l));
      }

      it('assenso export (NDJSON + Kantara): `effective` beside the untouched receipt', async () => {
        const [header, b, e] = await ndjson(T + 2 * DAY);
        expect(header.asOf).toBe(T + 2 * DAY);
        expect([b.receiptId, e.receiptId]).toEqual([banner.receiptId, email.receiptId]);
        expect(b.signed.receipt.categories).toEqual({ necessary: true, analytics: true, ads: false });
        expect(b.signed.receipt.expiries).toEqual({ analytics: T + DAY, ads: T + DAY });
        expect(b.effective).toEqual({
          asOf: T + 2 * DAY,
          expired: false,
          categories: { necessary: true, analytics: false, ads: false },
          services: { matomo: true },
          expiredAt: { analytics: T + DAY },
        });
        expect(e.signed.receipt.preferences.offers).toEqual({ email: true });
        expect(e.effective).toEqual({
          asOf: T + 2 * DAY,
          expired: true,
          categories: {},
          services: {},
          preferences: { newsletter: { email: true, sms: false }, offers: { email: false } },
          expiredAt: { 'offers.email': T + DAY },
        });
        const k = b.kantara as KantaraReceipt;
        // Kantara lists what was consented to then; whether it still holds is under assenso.effective.
        expect(k.services.map((s) => s.service)).toEqual(['analytics', 'necessary']);
        expect(k.assenso.effective?.categories.analytics).toBe(false);
        expect(k.assenso.effective?.expiredAt).toEqual({ analytics: T + DAY });

        const [, before] = await ndjson(T + 1000);
        expect(before.effective.categories.analytics).toBe(true);
        expect(before.effective.expiredAt).toEqual({});
      });

      it('assenso export (CSV): expired, effective and expired_at columns', async () => {
        let out = '';
        await exportReceipts({
          db,
          keyring,
          siteId: site,
          format: 'csv',
          asOf: T + 2 * DAY,
          write: (chunk) => {
            out += chunk;
          },
        });
        const [head, first] = out.split('\r\n');
        const columns = head!.split(',');
        expect(columns.slice(-3)).toEqual(['expired', 'effective', 'expired_at']);
        // The last three cells: a boolean, then two quoted JSON objects (RFC 4180: "" is a quote).
        const [, expired, effective, expiredAt] =
          /,(true|false),"((?:[^"]|"")*)","((?:[^"]|"")*)"$/.exec(first!) ?? [];
        const json = (cell?: string) => JSON.parse(cell!.replaceAll('""', '"'));
        expect(expired).toBe('false');
        expect(json(effective)).toEqual({
          categories: { necessary: true, analytics: false, ads: false },
          services: { matomo: true },
        });
        expect(json(expiredAt)).toEqual({ analytics: new Date(T + DAY).toISOString() });
      });

      it('the per-person export: each receipt’s `effective`, and effective_granted/expired on preference rows', async () => {
        const doc = await exportSubject(
          { db, now: () => T + 2 * DAY },
          { siteId: site, subjectId, contacts: 'none' },
        );
        expect(doc.generatedAt).toBe(T + 2 * DAY);
        expect(doc.receipts.map((r) => r.receiptId)).toEqual([email.receiptId]);
        expect(doc.receipts[0]?.effective.preferences?.offers).toEqual({ email: false });
        expect(doc.receipts[0]?.effective.expiredAt).toEqual({ 'offers.email': T + DAY });
        const rows = (doc.records.email_preferences ?? []).map((r) => ({
          item: `${r.purpose}.${r.channel}`,
          granted: r.granted,
          effective: r.effective_granted,
          expired: r.expired,
        }));
        expect(rows.sort((a, b) => a.item.localeCompare(b.item))).toEqual([
          { item: 'newsletter.email', granted: true, effective: true, expired: false },
          { item: 'newsletter.sms', granted: false, effective: false, expired: false },
          { item: 'offers.email', granted: true, effective: false, expired: true },
        ]);
      });
    });
  });
});

describe('the expiry rule alone', () => {
  it('a receipt without per-purpose expiries lasts until its expiresAt', () => {
    const r = logReceipt('shop', { expiresAt: 2000, categories: { a: true }, services: { s: true } });
    expect(receiptEffect(r, 1999).categories).toEqual({ a: true });
    expect(receiptEffect(r, 2000)).toMatchObject({
      expired: true,
      categories: { a: false },
      services: { s: false },
      expiredAt: { a: 2000, s: 2000 },
    });
  });
});
