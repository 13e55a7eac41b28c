import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResponse, ConsentStateResponse } from '../../src/protocol/api.ts';
import { PROBLEM_TYPES } from '../../src/protocol/problem.ts';
import type { Db } from '../../src/server/db/db.ts';
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

type App = ReturnType<typeof buildApp>['app'];

async function consentOf(app: App, deviceId: string): Promise<ConsentStateResponse> {
  const res = await app.request(`/v1/consent?site=${SHOP}&device=${deviceId}`, {
    headers: { origin: SHOP_ORIGIN },
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as ConsentStateResponse;
}

async function post(app: App, ...receipts: ReturnType<typeof makeReceipt>[]) {
  const res = await postReceipts(app, { receipts });
  const body = (await res.json()) as BatchResponse;
  for (const r of body.results) expect(r.status).toBeLessThan(300);
  return res;
}

describe.each(databases)('device consent on $name', (d) => {
  describe.skipIf(!d.available)('state', () => {
    let db: Db & { drop(): Promise<void> };
    // PGlite starts in seconds, or in minutes on a loaded machine: give creating and migrating it time.
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    it('answers the latest decision of a device', async () => {
      const { app, deps } = buildApp(db);
      const receipt = makeReceipt(SHOP, { expiries: { analytics: Date.now() + 86_400_000 } });
      await post(app, receipt);
      const state = await consentOf(app, receipt.deviceId as string);
      expect(state).toEqual({
        siteId: SHOP,
        deviceId: receipt.deviceId,
        subjectId: null,
        decision: {
          revision: receipt.revision,
          method: 'accept-all',
          receiptId: receipt.receiptId,
          decidedAt: receipt.collectedAt,
          receivedAt: deps.now(),
          // The earliest expiry of the choices: analytics' own, a day away.
          expiresAt: receipt.expiries?.analytics,
          categories: { necessary: true, analytics: true },
          services: { matomo: true },
          updatedAt: { necessary: deps.now(), analytics: deps.now() },
          expiries: {
            necessary: receipt.expiresAt,
            analytics: receipt.expiries?.analytics,
            matomo: receipt.expiresAt,
          },
        },
      });
    });

    it('answers null for a device the server has no receipt of', async () => {
      const { app } = buildApp(db);
      expect((await consentOf(app, randomBytes(16).toString('hex'))).decision).toBeNull();
    });

    it('merges per category: a later receipt replaces the choices it makes and keeps the others', async () => {
      const { app, advance } = buildApp(db);
      const first = makeReceipt(SHOP, { categories: { necessary: true, analytics: true, ads: true } });
      await post(app, first);
      advance(1000);
      const second = makeReceipt(SHOP, {
        deviceId: first.deviceId,
        collectedAt: first.collectedAt + 1000,
        method: 'preferences',
        categories: { necessary: true, ads: false },
        previousReceiptId: first.receiptId,
      });
      await post(app, second);
      const { decision } = await consentOf(app, first.deviceId as string);
      expect(decision?.receiptId).toBe(second.receiptId);
      expect(decision?.method).toBe('preferences');
      expect(decision?.categories).toEqual({ necessary: true, analytics: true, ads: false });
      expect((decision?.updatedAt.ads ?? 0) - (decision?.updatedAt.analytics ?? 0)).toBe(1000);
    });

    it('does not let an older receipt that arrives late undo a newer choice', async () => {
      const { app, advance } = buildApp(db);
      const deviceId = randomBytes(16).toString('hex');
      const older = makeReceipt(SHOP, { deviceId, collectedAt: Date.now() - 60_000, method: 'accept-all' });
      const newer = makeReceipt(SHOP, {
        deviceId,
        method: 'reject-all',
        categories: { necessary: true, analytics: false },
        services: { matomo: false },
      });
      await post(app, newer);
      advance(30_000);
      await post(app, older);
      const { decision } = await consentOf(app, deviceId);
      expect(decision?.receiptId).toBe(newer.receiptId);
      expect(decision?.categories.analytics).toBe(false);
      expect(decision?.services.matomo).toBe(false);
    });

    it('keeps the newest of several decisions of one device sent in one batch', async () => {
      const { app } = buildApp(db);
      const deviceId = randomBytes(16).toString('hex');
      const a = makeReceipt(SHOP, { deviceId, collectedAt: Date.now() - 2000 });
      const b = makeReceipt(SHOP, {
        deviceId,
        collectedAt: Date.now() - 1000,
        categories: { necessary: true, analytics: false },
      });
      await post(app, b, a);
      const { decision } = await consentOf(app, deviceId);
      expect(decision?.receiptId).toBe(b.receiptId);
      expect(decision?.categories.analytics).toBe(false);
    });

    it.each([
      ['no parameters', ''],
      ['a bad device id', `?site=${SHOP}&device=xyz`],
      ['a bad site id', '?site=Shop!&device=0123456789abcdef0123456789abcdef'],
    ])('answers 400 invalid-request for %s', async (_, query) => {
      const { app } = buildApp(db);
      const res = await app.request(`/v1/consent${query}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['invalid-request'] });
    });

    it('answers 404 unknown-site for a site this server does not serve', async () => {
      const { app } = buildApp(db);
      const res = await app.request('/v1/consent?site=nowhere&device=0123456789abcdef0123456789abcdef');
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['unknown-site'] });
    });

    describe('first-party mode', () => {
      const config = testConfig({
        sites: [
          { id: SHOP, origins: [SHOP_ORIGIN], firstPartyCookie: { name: 'assenso', domain: 'shop.example' } },
        ],
      });

      it('sets the consent cookie when reached under the site origin (reverse proxy)', async () => {
        const { app, deps } = buildApp(db, { config });
        const receipt = makeReceipt(SHOP, { expiries: { analytics: Date.now() + 30 * 86_400_000 } });
        const res = await postReceipts(app, { receipts: [receipt] }, { headers: { host: 'shop.example' } });
        const cookie = res.headers.get('set-cookie') ?? '';
        const [pair, ...attributes] = cookie.split('; ');
        expect(pair?.startsWith('assenso=')).toBe(true);
        const value = new URLSearchParams(pair?.slice('assenso='.length));
        expect(Object.fromEntries(value)).toEqual({
          v: '1',
          k: SHOP,
          r: receipt.revision,
          t: String(receipt.collectedAt),
          x: String(receipt.expiresAt),
          m: 'accept-all',
          id: receipt.receiptId,
          d: receipt.deviceId,
          g: '0',
          // The signed receipt is canonical JSON: its keys, and so the list, come sorted.
          c: `analytics:1:${receipt.expiries?.analytics}.necessary:1`,
          s: 'matomo:1',
        });
        const maxAge = Math.ceil((receipt.expiresAt - deps.now()) / 1000);
        expect(attributes).toEqual([
          `Max-Age=${maxAge}`,
          'Path=/',
          'Domain=shop.example',
          'SameSite=Lax',
          'Secure',
        ]);
      });

      it("keeps the widget's earlier answers of categories asked again, which the receipt leaves out", async () => {
        const { app } = buildApp(db, { config });
        // A decision made during a revision re-ask that answered only a service (a placeholder's "Allow"):
        // the receipt records `yt`; the widget's cookie also keeps the earlier answers of analytics and
        // marketing, marked asked again (expiry 1), to prefill the banner that still asks them.
        const receipt = makeReceipt(SHOP, {
          method: 'service',
          categories: { necessary: true },
          services: { yt: true },
          expiries: { yt: Date.now() + 30 * 86_400_000 },
        });
        const widget = (id: string, c: string, s: string) =>
          new URLSearchParams({
            v: '1',
            k: SHOP,
            r: receipt.revision,
            t: String(receipt.collectedAt),
            id,
            c,
            s,
          });
        const mine = widget(
          receipt.receiptId,
          `necessary:1.analytics:1:1.marketing:0:${receipt.collectedAt}.later:1:${receipt.collectedAt + 1}`,
          `yt:1:${receipt.expiries?.yt}.matomo:0.ga:1:${receipt.collectedAt + 5}.x:1:2:3.Bad:1`,
        );
        // Another decision's copy (an older one, or another site's) supplies nothing.
        const other = widget('00000000-0000-4000-8000-000000000000', 'ads:1:1', 'fb:1');
        const res = await postReceipts(
          app,
          { receipts: [receipt] },
          {
            headers: {
              host: 'shop.example',
              cookie: `other=1; assenso=${other}; assenso=${mine}; theme=dark`,
            },
          },
        );
        const value = new URLSearchParams(
          res.headers.get('set-cookie')?.split('; ')[0]?.slice('assenso='.length),
        );
        // Earlier answers asked again (expiry not after the decision) are kept; one still in force (`later`) is
        // not the receipt's and is dropped, as are a service absent from the receipt with an expiry in force
        // (`ga`) and malformed entries.
        expect(value.get('c')).toBe(`necessary:1.analytics:1:1.marketing:0:${receipt.collectedAt}`);
        // `yt`, chosen on its own (listed with an expiry), keeps one: listed without, it would follow marketing,
        // asked again, and be denied.
        expect(value.get('s')).toBe(`yt:1:${receipt.expiries?.yt}.matomo:0`);
      });

      it('sets no cookie when the server is reached under its own host (a third-party cookie)', async () => {
        const { app } = buildApp(db, { config });
        const res = await postReceipts(
          app,
          { receipts: [makeReceipt()] },
          { headers: { host: 'consent.example.net' } },
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('set-cookie')).toBeNull();
      });

      it('a receipt sent again sets the cookie while it is the latest (its first answer was lost), not after a newer one', async () => {
        const { app } = buildApp(db, { config });
        const deviceId = randomBytes(16).toString('hex');
        const receipt = makeReceipt(SHOP, { deviceId, collectedAt: Date.now() - 60_000 });
        const first = await postReceipts(app, { receipts: [receipt] }, { headers: { host: 'shop.example' } });
        expect(first.headers.get('set-cookie')).toMatch(/^assenso=/);
        // The first answer never reached the page: the widget sends the receipt again, and gets the cookie.
        const again = await postReceipts(app, { receipts: [receipt] }, { headers: { host: 'shop.example' } });
        expect(((await again.json()) as BatchResponse).results[0]?.outcome).toBe('duplicate');
        const value = (r: Response) => r.headers.get('set-cookie')?.split('; ')[0];
        expect(value(again)).toBe(value(first));
        // The next decision is stored; a late resend of the first (a pagehide beacon) must not put it back.
        await post(app, makeReceipt(SHOP, { deviceId }));
        const late = await postReceipts(app, { receipts: [receipt] }, { headers: { host: 'shop.example' } });
        expect(((await late.json()) as BatchResponse).results[0]?.outcome).toBe('duplicate');
        expect(late.headers.get('set-cookie')).toBeNull();
      });

      it("sets no cookie for a decision the widget's own copy does not hold (an answer in a tab on an older revision)", async () => {
        const { app } = buildApp(db, { config });
        const deviceId = randomBytes(16).toString('hex');
        const newer = makeReceipt(SHOP, { deviceId, revision: '2027-01' });
        await post(app, newer);
        // The old tab's answer chains after it (the device's latest), but the widget kept the newer decision.
        const old = makeReceipt(SHOP, { deviceId, revision: '2026-11', previousReceiptId: newer.receiptId });
        const copy = (r: typeof newer) =>
          new URLSearchParams({ v: '1', k: SHOP, r: r.revision, id: r.receiptId });
        const kept = await postReceipts(
          app,
          { receipts: [old] },
          { headers: { host: 'shop.example', cookie: `assenso=${copy(newer)}` } },
        );
        expect(((await kept.json()) as BatchResponse).results[0]?.outcome).toBe('stored');
        expect(kept.headers.get('set-cookie')).toBeNull();
        // The widget's copy is of this very decision: the server's cookie follows it.
        const next = makeReceipt(SHOP, { deviceId, revision: '2027-01', previousReceiptId: old.receiptId });
        const res = await postReceipts(
          app,
          { receipts: [next] },
          { headers: { host: 'shop.example', cookie: `assenso=${copy(next)}` } },
        );
        expect(res.headers.get('set-cookie')).toContain(`id=${next.receiptId}`);
      });

      it('sets no cookie for an older receipt that arrives after a newer one', async () => {
        const { app } = buildApp(db, { config });
        const deviceId = randomBytes(16).toString('hex');
        await post(app, makeReceipt(SHOP, { deviceId }));
        const late = makeReceipt(SHOP, { deviceId, collectedAt: Date.now() - 60_000 });
        const res = await postReceipts(app, { receipts: [late] }, { headers: { host: 'shop.example' } });
        expect(((await res.json()) as BatchResponse).results[0]?.status).toBe(201);
        expect(res.headers.get('set-cookie')).toBeNull();
      });
    });
  });
});
