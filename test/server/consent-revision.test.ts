/**
 * What the server answers once the policy revision changed, and with categories of different lifetimes, on
 * PGlite and PostgreSQL (docs/protocol.md, "GET /v1/consent" and "Expired consent"; docs/identity.md):
 * - a choice counts only when made under the revision of the device's (or person's) latest receipt: an
 *   "Accept all" of r1 must not come back under r2, where the person only allowed one video;
 * - every choice lasts until its own entry in the receipt's `expiries` (services too), else `expiresAt`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResponse, ConsentStateResponse } from '../../src/protocol/api.ts';
import type { LinkedResponse, PairingCodeResponse } from '../../src/protocol/identity.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { createPseudonymizer } from '../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../src/server/db/db.ts';
import { migrate } from '../../src/server/db/migrate.ts';
import type { AppDeps } from '../../src/server/deps.ts';
import { createPreferencesService } from '../../src/server/email/preferences-service.ts';
import { signIdentity } from '../../src/server/identity-token.ts';
import { exportReceipts } from '../../src/server/log/export.ts';
import { exportSubject } from '../../src/server/protection/subject-export.ts';
import { CLOCK_TOLERANCE_MS } from '../../src/server/services/device-clock.ts';
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
import { emailConfig } from './email/fixtures.ts';
import { KID, PSEUDONYM_SECRET, SECRET } from './identity/fixtures.ts';

const DAY = 86_400_000;
const newDevice = () => randomBytes(16).toString('hex');

/** "Accept all" on revision r1: every category and service granted for 180 days. */
const acceptAllR1 = (deviceId: string, now: number, over: Partial<Receipt> = {}) =>
  makeReceipt(SHOP, {
    deviceId,
    collectedAt: now,
    revision: 'r1',
    method: 'accept-all',
    categories: { necessary: true, analytics: true, marketing: true },
    services: { matomo: true, adsense: true, demotube: true },
    expiresAt: now + 180 * DAY,
    ...over,
  });

/**
 * On r2, only "Allow DemoTube" on an iframe placeholder: the categories never answered on r2 are absent, and the
 * video lasts its category's lifetime (the decision's expiresAt), as the widget records it (src/core/receipt.ts).
 */
const allowVideoR2 = (deviceId: string, now: number, over: Partial<Receipt> = {}) =>
  makeReceipt(SHOP, {
    deviceId,
    collectedAt: now,
    revision: 'r2',
    method: 'service',
    categories: { necessary: true },
    services: { demotube: true },
    expiresAt: now + 30 * DAY,
    expiries: { necessary: now + 30 * DAY, demotube: now + 30 * DAY },
    ...over,
  });

describe.each(databases)('consent across policy revisions and lifetimes on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    function setup(deps: Partial<AppDeps> = {}) {
      const config = testConfig();
      const shop = config.sites.find((s) => s.id === SHOP);
      if (shop) shop.identity = { secrets: { [KID]: SECRET } };
      const built = buildApp(db, { config, pseudonymizer: createPseudonymizer(PSEUDONYM_SECRET), ...deps });
      const request = (path: string, body?: unknown) =>
        built.app.request(path, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      return {
        ...built,
        async post(...receipts: Receipt[]) {
          const res = await postReceipts(built.app, { receipts });
          expect(res.status).toBe(200);
          for (const r of ((await res.json()) as BatchResponse).results)
            expect(r.status, JSON.stringify(r)).toBeLessThan(300);
        },
        async consent(deviceId: string) {
          const res = await request(`/v1/consent?site=${SHOP}&device=${deviceId}`);
          expect(res.status).toBe(200);
          return (await res.json()) as ConsentStateResponse;
        },
        async identify(deviceId: string, user: string) {
          const token = signIdentity({
            secret: SECRET,
            kid: KID,
            siteId: SHOP,
            userId: user,
            now: built.deps.now,
          });
          const res = await request('/v1/identify', { siteId: SHOP, deviceId, token });
          expect(res.status).toBe(200);
          return (await res.json()) as LinkedResponse;
        },
        /** Pairs `claimer` with `issuer` by a code, as the preference center does. */
        async pair(issuer: string, claimer: string) {
          const created = await request('/v1/pairing', { siteId: SHOP, deviceId: issuer });
          expect(created.status).toBe(201);
          const { code } = (await created.json()) as PairingCodeResponse;
          const claimed = await request('/v1/pairing/claim', { siteId: SHOP, deviceId: claimer, code });
          expect(claimed.status).toBe(200);
          return (await claimed.json()) as LinkedResponse;
        },
      };
    }

    describe.each([
      { name: 'group commit', deps: {} },
      { name: 'one transaction per batch', deps: { receiptHooks: [async () => {}] } },
    ] as { name: string; deps: Partial<AppDeps> }[])('$name', ({ deps }) => {
      it("a device's r1 grants do not come back under r2, where it only allowed a video", async () => {
        const s = setup(deps);
        const device = newDevice();
        const r1 = acceptAllR1(device, s.deps.now());
        await s.post(r1);
        s.advance(DAY);
        const r2 = allowVideoR2(device, s.deps.now(), { previousReceiptId: r1.receiptId });
        await s.post(r2);
        const decision = (await s.consent(device)).decision;
        expect(decision).toMatchObject({ revision: 'r2', receiptId: r2.receiptId, method: 'service' });
        // Analytics and marketing were never answered on r2: absent (unanswered), neither granted nor refused.
        expect(decision?.categories).toEqual({ necessary: true });
        expect(decision?.services).toEqual({ demotube: true });
        expect(decision?.updatedAt).toEqual({ necessary: s.deps.now() });
        expect(decision?.expiries).toEqual({
          necessary: r2.collectedAt + 30 * DAY,
          demotube: r2.collectedAt + 30 * DAY,
        });
        expect(decision?.expiresAt).toBe(r2.collectedAt + 30 * DAY);

        // The r1 receipt arriving again late (an outbox retry) changes nothing; an r2 answer counts again.
        await s.post(r1);
        expect((await s.consent(device)).decision?.categories).toEqual({ necessary: true });
        s.advance(1000);
        const r2Analytics = makeReceipt(SHOP, {
          deviceId: device,
          collectedAt: s.deps.now(),
          revision: 'r2',
          method: 'preferences',
          categories: { necessary: true, analytics: true },
          services: { matomo: true },
          expiresAt: s.deps.now() + 30 * DAY,
          previousReceiptId: r2.receiptId,
        });
        await s.post(r2Analytics);
        const later = (await s.consent(device)).decision;
        expect(later?.categories).toEqual({ necessary: true, analytics: true });
        expect(later?.services).toEqual({ demotube: true, matomo: true });
      });

      it('the person’s consent (another device, identify, pairing) keeps only what was answered on r2', async () => {
        const s = setup(deps);
        const [desktop, phone, tablet] = [newDevice(), newDevice(), newDevice()];
        const user = `u-${desktop}`;
        await s.identify(desktop, user);
        await s.identify(phone, user);
        // The desktop accepted all on r1; later, on r2, the phone only allowed the video.
        await s.post(acceptAllR1(desktop, s.deps.now()));
        s.advance(DAY);
        const r2 = allowVideoR2(phone, s.deps.now());
        await s.post(r2);

        const synced = await s.consent(desktop);
        expect(synced.subjectId).not.toBeNull();
        expect(synced.decision).toMatchObject({ revision: 'r2', receiptId: r2.receiptId });
        expect(synced.decision?.categories).toEqual({ necessary: true });
        expect(synced.decision?.services).toEqual({ demotube: true });
        expect(synced.decision?.expiries).toEqual({
          necessary: r2.collectedAt + 30 * DAY,
          demotube: r2.collectedAt + 30 * DAY,
        });
        const identified = await s.identify(tablet, user);
        expect(identified.consent.decision?.categories).toEqual({ necessary: true });
        expect(identified.consent.decision?.services).toEqual({ demotube: true });
        const paired = await s.pair(desktop, newDevice());
        expect(paired.consent.decision?.revision).toBe('r2');
        expect(paired.consent.decision?.categories).toEqual({ necessary: true });
        expect(paired.consent.decision?.services).toEqual({ demotube: true });
      });
    });

    it('an email link used since (its own revision, preferences only) leaves the person’s consent as it was', async () => {
      const s = setup();
      const [desktop, phone] = [newDevice(), newDevice()];
      const { subjectId } = await s.identify(desktop, `u-${desktop}`);
      await s.identify(phone, `u-${desktop}`);
      const banner = allowVideoR2(desktop, s.deps.now(), {
        categories: { necessary: true, analytics: true },
      });
      await s.post(banner);
      s.advance(1000);
      const email = createPreferencesService({
        db,
        config: emailConfig(),
        keyring: s.deps.keyring,
        now: s.deps.now,
      });
      const signed = await email.decide({
        siteId: SHOP,
        subjectId,
        method: 'email-link',
        language: 'it',
        choices: { newsletter: { email: true } },
      });
      expect(signed.receipt.revision).not.toBe('r2');
      const decision = (await s.consent(phone)).decision;
      expect(decision).toMatchObject({ revision: 'r2', method: 'service', receiptId: banner.receiptId });
      expect(decision?.categories).toEqual({ necessary: true, analytics: true });
      expect(decision?.services).toEqual({ demotube: true });
    });

    it('“download my data” flags a device’s choices of an older revision: granted by nobody now', async () => {
      const s = setup();
      const device = newDevice();
      const { subjectId } = await s.identify(device, `u-${device}`);
      const r1 = acceptAllR1(device, s.deps.now());
      await s.post(r1);
      s.advance(DAY);
      await s.post(allowVideoR2(device, s.deps.now(), { previousReceiptId: r1.receiptId }));
      const doc = await exportSubject({ db, now: s.deps.now }, { siteId: SHOP, subjectId, contacts: 'none' });
      const rows = (doc.records.device_consent ?? [])
        .filter((r) => r.kind !== 'receipt')
        .map((r) => ({
          item: `${r.kind}:${r.item_id}`,
          revision: r.revision,
          effective: r.effective_granted,
          outdated: r.outdated ?? false,
        }))
        .sort((a, b) => a.item.localeCompare(b.item));
      expect(rows).toEqual([
        { item: 'category:analytics', revision: 'r1', effective: false, outdated: true },
        { item: 'category:marketing', revision: 'r1', effective: false, outdated: true },
        { item: 'category:necessary', revision: 'r2', effective: true, outdated: false },
        { item: 'service:adsense', revision: 'r1', effective: false, outdated: true },
        { item: 'service:demotube', revision: 'r2', effective: true, outdated: false },
        { item: 'service:matomo', revision: 'r1', effective: false, outdated: true },
      ]);
    });

    describe('categories with different lifetimes (analytics a year, marketing a day)', () => {
      /** As the widget records it now: every choice's expiry, a service its category's, necessary the latest. */
      const mixed = (deviceId: string, now: number) =>
        makeReceipt(SHOP, {
          deviceId,
          collectedAt: now,
          revision: 'r1',
          method: 'accept-all',
          categories: { necessary: true, analytics: true, marketing: true },
          services: { 'demo-analytics': true, adsense: true },
          expiresAt: now + DAY,
          expiries: {
            necessary: now + 365 * DAY,
            analytics: now + 365 * DAY,
            marketing: now + DAY,
            'demo-analytics': now + 365 * DAY,
            adsense: now + DAY,
          },
        });
      const stillGranted = {
        categories: { necessary: true, analytics: true, marketing: false },
        services: { 'demo-analytics': true, adsense: false },
      };

      it('GET /v1/consent, for a device and for the person, expires only the marketing choices', async () => {
        const s = setup();
        const [device, other] = [newDevice(), newDevice()];
        const receipt = mixed(device, s.deps.now());
        await s.post(receipt);
        s.advance(2 * DAY);
        const own = (await s.consent(device)).decision;
        expect(own).toMatchObject(stillGranted);
        expect(own?.expired).toEqual({
          marketing: receipt.collectedAt + DAY,
          adsense: receipt.collectedAt + DAY,
        });
        expect(own?.expiries?.['demo-analytics']).toBe(receipt.collectedAt + 365 * DAY);
        expect(own?.expiresAt).toBe(receipt.collectedAt + DAY);
        await s.identify(device, `u-${device}`);
        const linked = await s.identify(other, `u-${device}`);
        expect(linked.consent.decision).toMatchObject(stillGranted);
        expect(linked.consent.decision?.expired).toEqual(own?.expired);
      });

      it('the person’s consent asks again only when a choice that still counts expires', async () => {
        const s = setup();
        const [desktop, phone] = [newDevice(), newDevice()];
        const user = `u-${desktop}`;
        await s.identify(desktop, user);
        await s.identify(phone, user);
        const first = mixed(desktop, s.deps.now());
        await s.post(first);
        s.advance(1000);
        // The phone then refuses marketing for a week: the desktop's one-day marketing choice no longer counts.
        const now = s.deps.now();
        await s.post(
          makeReceipt(SHOP, {
            deviceId: phone,
            collectedAt: now,
            revision: 'r1',
            method: 'preferences',
            categories: { marketing: false },
            services: { adsense: false },
            expiresAt: now + 7 * DAY,
            expiries: { marketing: now + 7 * DAY, adsense: now + 7 * DAY },
          }),
        );
        s.advance(2 * DAY);
        const decision = (await s.consent(desktop)).decision;
        expect(decision?.categories).toEqual({ necessary: true, analytics: true, marketing: false });
        expect(decision?.expired).toBeUndefined();
        expect(decision?.expiresAt).toBe(now + 7 * DAY);
      });

      it('migration 007 gives the service rows stored before it their own expiry', async () => {
        const s = setup();
        const [device, fast] = [newDevice(), newDevice()];
        const receipt = mixed(device, s.deps.now());
        // A clock 10 days fast: its expiries count from the server time, as ingest counts them.
        const ahead = mixed(fast, s.deps.now() + 10 * DAY);
        const old = makeReceipt(SHOP, { deviceId: newDevice(), services: { matomo: true } });
        await s.post(receipt, ahead, old);
        // As the server stored them before: every service until its receipt's expiresAt.
        await db.query(
          `UPDATE device_consent s SET expires_at = r.expires_at FROM device_consent r
           WHERE s.kind = 'service' AND s.device_id = ANY($1::text[])
             AND r.site_id = s.site_id AND r.device_id = s.device_id AND r.kind = 'receipt'`,
          [[device, fast, old.deviceId]],
        );
        await db.query(`DELETE FROM assenso_migrations WHERE name LIKE '007-%'`);
        expect((await migrate(db)).filter((m) => m.startsWith('007-'))).toEqual(['007-service-expiries.sql']);
        const { rows } = await db.query<{ device_id: string; item_id: string; expires_at: string }>(
          `SELECT device_id, item_id, expires_at FROM device_consent WHERE kind = 'service' AND device_id = ANY($1::text[])`,
          [[device, fast, old.deviceId]],
        );
        const expiry = (dev: string | null, item: string) =>
          Number(rows.find((r) => r.device_id === dev && r.item_id === item)?.expires_at);
        expect(expiry(device, 'demo-analytics')).toBe(receipt.collectedAt + 365 * DAY);
        expect(expiry(device, 'adsense')).toBe(receipt.collectedAt + DAY);
        const moved = ahead.collectedAt - (s.deps.now() + CLOCK_TOLERANCE_MS);
        expect(expiry(fast, 'demo-analytics')).toBe(ahead.collectedAt + 365 * DAY - moved);
        // A receipt without an entry for its service keeps its expiresAt.
        expect(expiry(old.deviceId, 'matomo')).toBe(old.expiresAt);
      });

      it('the auditor’s export says the same of the receipt alone', async () => {
        const s = setup();
        const receipt = mixed(newDevice(), s.deps.now());
        await s.post(receipt);
        let out = '';
        await exportReceipts({
          db,
          keyring: s.deps.keyring,
          siteId: SHOP,
          format: 'ndjson',
          kantara: {},
          from: s.deps.now(),
          asOf: s.deps.now() + 2 * DAY,
          write: (chunk) => {
            out += chunk;
          },
        });
        const line = out
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((l) => l.receiptId === receipt.receiptId);
        for (const effective of [line.effective, line.kantara.assenso.effective]) {
          expect(effective).toMatchObject(stillGranted);
          expect(effective.expiredAt).toEqual({
            marketing: receipt.collectedAt + DAY,
            adsense: receipt.collectedAt + DAY,
          });
        }
      });
    });
  });
});
