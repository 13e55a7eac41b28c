/**
 * Which of a device's decisions is its current one, on both databases and both commit paths (group commit,
 * and one transaction per batch when receipt hooks are set): the chain of `previousReceiptId` orders one
 * device's receipts, the device clock only where no direct link relates them, and a clock ahead of the
 * server's never wins the order nor extends consent (docs/protocol.md, "Order and clocks").
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResponse, ConsentStateResponse } from '../../src/protocol/api.ts';
import type { LinkedResponse } from '../../src/protocol/identity.ts';
import type { Receipt } from '../../src/protocol/receipt.ts';
import type { Db } from '../../src/server/db/db.ts';
import { migrate } from '../../src/server/db/migrate.ts';
import { exportReceipts } from '../../src/server/log/export.ts';
import { exportSubject } from '../../src/server/protection/subject-export.ts';
import type { AppDeps } from '../../src/server/deps.ts';
import { createPseudonymizer } from '../../src/server/crypto/pseudonym.ts';
import { signIdentity } from '../../src/server/identity-token.ts';
import { CLOCK_TOLERANCE_MS } from '../../src/server/services/device-clock.ts';
import { databases } from '../helpers/databases.ts';
import {
  buildApp,
  countReceipts,
  DB_START_TIMEOUT,
  idsOf,
  makeReceipt,
  postReceipts,
  SHOP,
  SHOP_ORIGIN,
  testConfig,
} from './helpers.ts';
import { KID, PSEUDONYM_SECRET, SECRET } from './identity/fixtures.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type App = ReturnType<typeof buildApp>['app'];

const newDevice = () => randomBytes(16).toString('hex');
/** A UUIDv7 starting with `head` (8 hex digits): where it sorts is chosen. */
const idFrom = (head: string) =>
  `${head}-${randomBytes(2).toString('hex')}-7${randomBytes(2).toString('hex').slice(1)}-8${randomBytes(2).toString('hex').slice(1)}-${randomBytes(6).toString('hex')}`;

const ACCEPT: Partial<Receipt> = {
  method: 'accept-all',
  categories: { necessary: true, analytics: true },
  services: { matomo: true },
};
const REJECT: Partial<Receipt> = {
  method: 'reject-all',
  categories: { necessary: true, analytics: false },
  services: { matomo: false },
};

/** A receipt of `deviceId` made at `collectedAt` by the device's clock, lasting 180 days by that clock. */
function made(deviceId: string, collectedAt: number, over: Partial<Receipt> = {}): Receipt {
  return makeReceipt(SHOP, { deviceId, collectedAt, expiresAt: collectedAt + 180 * DAY, ...over });
}

/** `b` made right after `a` on the same device: its `previousReceiptId` is `a`. */
const madeAfter = (a: Receipt, collectedAt: number, over: Partial<Receipt> = {}) =>
  made(a.deviceId as string, collectedAt, { previousReceiptId: a.receiptId, ...over });

async function post(app: App, receipts: Receipt[], headers: Record<string, string> = {}) {
  const res = await postReceipts(app, { receipts }, { headers });
  expect(res.status).toBe(200);
  const body = (await res.json()) as BatchResponse;
  for (const r of body.results) expect(r.status, JSON.stringify(r)).toBeLessThan(300);
  return { res, body };
}

async function decisionOf(app: App, deviceId: string) {
  const res = await app.request(`/v1/consent?site=${SHOP}&device=${deviceId}`, {
    headers: { origin: SHOP_ORIGIN },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as ConsentStateResponse).decision;
}

// Receipt hooks need the batch's own transaction: with one, the route commits batch by batch instead of in groups.
const paths: { name: string; deps: Partial<AppDeps> }[] = [
  { name: 'group commit', deps: {} },
  { name: 'one transaction per batch', deps: { receiptHooks: [async () => {}] } },
];

describe.each(databases)('device order on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    describe.each(paths)('$name', ({ deps }) => {
      const setup = () => buildApp(db, deps);

      it('a receipt that follows the latest one wins, though the clock made the latest later', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        // The clock is 2 h fast; then it is corrected, and ten seconds later the person rejects all.
        const acceptAll = made(device, d.now() + 2 * HOUR, ACCEPT);
        await post(app, [acceptAll]);
        advance(10_000);
        const rejectAll = madeAfter(acceptAll, d.now(), REJECT);
        await post(app, [rejectAll]);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(rejectAll.receiptId);
        expect(decision?.method).toBe('reject-all');
        expect(decision?.decidedAt).toBe(rejectAll.collectedAt);
        expect(decision?.categories).toEqual({ necessary: true, analytics: false });
        expect(decision?.services).toEqual({ matomo: false });
      });

      it('orders the receipts of one batch by their chain, in whatever order they are sent', async () => {
        const { app, deps: d } = setup();
        for (const order of [
          [0, 1],
          [1, 0],
        ]) {
          const device = newDevice();
          const acceptAll = made(device, d.now() + 2 * HOUR, ACCEPT);
          const rejectAll = madeAfter(acceptAll, d.now(), REJECT);
          const pair = [acceptAll, rejectAll];
          await post(
            app,
            order.map((i) => pair[i] as Receipt),
          );
          const decision = await decisionOf(app, device);
          expect(decision?.receiptId).toBe(rejectAll.receiptId);
          expect(decision?.categories.analytics).toBe(false);
        }
      });

      it('follows a chain of three sent together while the clock ran backwards', async () => {
        const { app, deps: d } = setup();
        const device = newDevice();
        const a = made(device, d.now() + 3 * HOUR, {
          ...ACCEPT,
          categories: { necessary: true, analytics: true, ads: true },
        });
        const b = madeAfter(a, d.now() + 2 * HOUR, { categories: { necessary: true, analytics: true } });
        const c = madeAfter(b, d.now(), { ...REJECT, categories: { necessary: true, analytics: false } });
        await post(app, [c, a, b]);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(c.receiptId);
        // Each choice from the newest receipt that makes it: only `a` decided about ads.
        expect(decision?.categories).toEqual({ necessary: true, analytics: false, ads: true });
        expect(decision?.services).toEqual({ matomo: false });
      });

      it('never lets a receipt replace the one that follows it, when it arrives late', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        const acceptAll = made(device, d.now() + 2 * HOUR, ACCEPT);
        const rejectAll = madeAfter(acceptAll, d.now() + 10_000, REJECT);
        await post(app, [rejectAll]);
        advance(30_000);
        await post(app, [acceptAll]);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(rejectAll.receiptId);
        expect(decision?.categories.analytics).toBe(false);
        expect(decision?.services.matomo).toBe(false);
      });

      it('keeps the latest when the two receipts before it arrive late together', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        const a = made(device, d.now() + 2 * HOUR, ACCEPT);
        const b = madeAfter(a, d.now() + HOUR, { categories: { necessary: true, ads: true }, services: {} });
        const c = madeAfter(b, d.now(), REJECT);
        await post(app, [c]);
        advance(MINUTE);
        await post(app, [a, b]);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(c.receiptId);
        // `c` decided analytics and matomo; only `b` decided ads.
        expect(decision?.categories).toEqual({ necessary: true, analytics: false, ads: true });
        expect(decision?.services).toEqual({ matomo: false });
      });

      it('stores a retried batch once, and the retry changes nothing', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        const acceptAll = made(device, d.now() + 2 * HOUR, ACCEPT);
        const rejectAll = madeAfter(acceptAll, d.now(), REJECT);
        await post(app, [acceptAll, rejectAll]);
        advance(MINUTE);
        const again = await post(app, [acceptAll, rejectAll]);
        expect(again.body.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
        await post(app, [acceptAll]);
        expect(await countReceipts(db, idsOf([acceptAll, rejectAll]))).toBe(2);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(rejectAll.receiptId);
        expect(decision?.categories.analytics).toBe(false);
      });

      it('orders receipts no link relates by the clock: of two made after the same one, the later', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        const first = made(device, d.now() - HOUR, ACCEPT);
        await post(app, [first]);
        // Two tabs decided after `first`, each naming it as previous.
        const later = madeAfter(first, d.now() - MINUTE, REJECT);
        const earlier = madeAfter(first, d.now() - 2 * MINUTE, ACCEPT);
        await post(app, [later]);
        advance(MINUTE);
        await post(app, [earlier]);
        expect((await decisionOf(app, device))?.receiptId).toBe(later.receiptId);
      });

      it('stores a receipt from a clock 400 days fast as sent, but its consent lasts from the server time', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        const receivedAt = d.now();
        const collectedAt = receivedAt + 400 * DAY;
        const fast = made(device, collectedAt, {
          ...ACCEPT,
          expiresAt: collectedAt + 395 * DAY,
          expiries: { analytics: collectedAt + 30 * DAY },
        });
        const { body } = await post(app, [fast]);
        const [result] = body.results;
        // Evidence: signed and stored as the device sent it.
        expect(result?.outcome === 'stored' && result.signed.receipt).toEqual(fast);
        // The clock was ahead of the server's by this much beyond the tolerance: consent is shorter by as much.
        const ahead = collectedAt - (receivedAt + CLOCK_TOLERANCE_MS);
        let decision = await decisionOf(app, device);
        expect(decision?.decidedAt).toBe(collectedAt);
        expect(decision?.expiries).toEqual({
          necessary: fast.expiresAt - ahead,
          analytics: collectedAt + 30 * DAY - ahead,
          matomo: fast.expiresAt - ahead,
        });
        expect(decision?.expiresAt).toBe(receivedAt + CLOCK_TOLERANCE_MS + 30 * DAY);
        advance(31 * DAY);
        decision = await decisionOf(app, device);
        expect(decision?.categories).toEqual({ necessary: true, analytics: false });
        expect(decision?.expired).toEqual({ analytics: receivedAt + CLOCK_TOLERANCE_MS + 30 * DAY });
        // The auditor's export: the receipt untouched, its `effective` state by the same rule.
        let out = '';
        await exportReceipts({
          db,
          keyring: d.keyring,
          siteId: SHOP,
          format: 'ndjson',
          kantara: {},
          from: receivedAt,
          asOf: d.now(),
          write: (chunk) => {
            out += chunk;
          },
        });
        const line = out
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((l) => l.receiptId === fast.receiptId);
        expect(line.signed.receipt).toEqual(fast);
        for (const effective of [line.effective, line.kantara.assenso.effective]) {
          expect(effective.categories).toEqual({ necessary: true, analytics: false });
          expect(effective.expiredAt).toEqual({ analytics: receivedAt + CLOCK_TOLERANCE_MS + 30 * DAY });
        }
      });

      it('does not let a clock ahead of the server outrank a later decision', async () => {
        const { app, deps: d, advance } = setup();
        const device = newDevice();
        const fast = made(device, d.now() + 400 * DAY, ACCEPT);
        await post(app, [fast]);
        advance(5 * MINUTE);
        // Another tab, which never saw `fast` (no link between them), with a right clock.
        const honest = made(device, d.now(), REJECT);
        await post(app, [honest]);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(honest.receiptId);
        expect(decision?.categories.analytics).toBe(false);
      });

      it("answers a linked device with the person's consent in the same order, and as long", async () => {
        const config = testConfig();
        const shop = config.sites.find((s) => s.id === SHOP);
        if (shop) shop.identity = { secrets: { [KID]: SECRET } };
        const { app, deps: d } = buildApp(db, {
          ...deps,
          config,
          pseudonymizer: createPseudonymizer(PSEUDONYM_SECRET),
        });
        const device = newDevice();
        // One batch, one server time: the fast clock's UUIDv7 sorts after the corrected one's.
        const acceptAll = made(device, d.now() + 2 * HOUR, {
          ...ACCEPT,
          receiptId: idFrom('ffffffff'),
        });
        const rejectAll = madeAfter(acceptAll, d.now(), {
          ...REJECT,
          receiptId: idFrom('00000000'),
        });
        await post(app, [acceptAll, rejectAll]);
        const token = signIdentity({
          secret: SECRET,
          kid: KID,
          siteId: SHOP,
          userId: `u-${device}`,
          now: d.now,
        });
        const res = await app.request('/v1/identify', {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          body: JSON.stringify({ siteId: SHOP, deviceId: device, token }),
        });
        expect(res.status).toBe(200);
        const decision = await decisionOf(app, device);
        expect(decision?.receiptId).toBe(rejectAll.receiptId);
        expect(decision?.categories).toEqual({ necessary: true, analytics: false });
        // A clock 400 days fast on another device of the person: its consent lasts from the server time.
        const other = newDevice();
        const collectedAt = d.now() + 400 * DAY;
        const fast = made(other, collectedAt, { ...ACCEPT, expiresAt: collectedAt + 395 * DAY });
        await post(app, [fast]);
        const linked = await app.request('/v1/identify', {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          body: JSON.stringify({
            siteId: SHOP,
            deviceId: other,
            token: signIdentity({
              secret: SECRET,
              kid: KID,
              siteId: SHOP,
              userId: `u-${device}`,
              now: d.now,
            }),
          }),
        });
        expect(linked.status).toBe(200);
        expect((await decisionOf(app, device))?.expiresAt).toBe(d.now() + CLOCK_TOLERANCE_MS + 395 * DAY);
        // "Download my data" 396 days on: that receipt no longer grants anything.
        const { subjectId } = (await linked.json()) as LinkedResponse;
        const doc = await exportSubject(
          { db, now: () => d.now() + 396 * DAY },
          { siteId: SHOP, subjectId, contacts: 'none' },
        );
        const exported = doc.receipts.find((r) => r.receiptId === fast.receiptId);
        expect(exported?.entry).toEqual({ receipt: fast, receivedAt: d.now() });
        expect(exported?.effective).toMatchObject({
          expired: true,
          categories: { necessary: false, analytics: false },
        });
      });

      describe('first-party mode', () => {
        const config = testConfig({
          sites: [{ id: SHOP, origins: [SHOP_ORIGIN], firstPartyCookie: { name: 'assenso' } }],
        });
        const FIRST_PARTY = { host: 'shop.example' };
        const cookieOf = (res: Response) => {
          const cookie = res.headers.get('set-cookie');
          if (!cookie) return null;
          const [pair, ...attributes] = cookie.split('; ');
          return {
            value: Object.fromEntries(new URLSearchParams(pair?.slice('assenso='.length))),
            maxAge: Number(attributes.find((a) => a.startsWith('Max-Age='))?.slice('Max-Age='.length)),
          };
        };

        it("sets the cookie of the batch's latest receipt by the chain, not by the clock", async () => {
          const { app, deps: d } = buildApp(db, { ...deps, config });
          const device = newDevice();
          const acceptAll = made(device, d.now() + 2 * HOUR, ACCEPT);
          const rejectAll = madeAfter(acceptAll, d.now(), REJECT);
          const { res } = await post(app, [acceptAll, rejectAll], FIRST_PARTY);
          expect(cookieOf(res)?.value.id).toBe(rejectAll.receiptId);
        });

        it('keeps a cookie from a clock far ahead no longer than the consent lasts by the server clock', async () => {
          const { app, deps: d } = buildApp(db, { ...deps, config });
          const collectedAt = d.now() + 400 * DAY;
          const fast = made(newDevice(), collectedAt, { ...ACCEPT, expiresAt: collectedAt + 395 * DAY });
          const { res } = await post(app, [fast], FIRST_PARTY);
          const cookie = cookieOf(res);
          // The value is the device's own mirror (its clock); only how long the browser keeps it is bounded.
          expect(cookie?.value.x).toBe(String(fast.expiresAt));
          expect(cookie?.maxAge).toBe(Math.ceil((395 * DAY + CLOCK_TOLERANCE_MS) / 1000));
        });
      });
    });

    it('two instances storing one device at once (a retry while the first try is in flight) keep the chain', async () => {
      // Two server instances on one database: neither request waits for the other's group.
      const one = buildApp(db);
      const two = buildApp(db);
      for (let round = 0; round < 12; round++) {
        const device = newDevice();
        const known = round % 2 === 0 ? [] : [made(device, one.deps.now() - HOUR, ACCEPT)];
        if (known[0]) await post(one.app, known);
        const acceptAll = made(device, one.deps.now() + 2 * HOUR, {
          ...ACCEPT,
          previousReceiptId: known[0]?.receiptId ?? null,
        });
        const rejectAll = madeAfter(acceptAll, one.deps.now(), REJECT);
        await Promise.all([post(one.app, [acceptAll]), post(two.app, [acceptAll, rejectAll])]);
        const decision = await decisionOf(one.app, device);
        expect(decision?.receiptId).toBe(rejectAll.receiptId);
        expect(decision?.categories.analytics).toBe(false);
      }
    });

    it('two instances storing one device at once agree on choices the latest receipt did not repeat', async () => {
      const one = buildApp(db);
      const two = buildApp(db);
      for (let round = 0; round < 12; round++) {
        const device = newDevice();
        const first = made(device, one.deps.now() - HOUR, ACCEPT);
        await post(one.app, [first]);
        // `a` (clock 2 h fast) decides about ads; `b` does not; `c` refuses ads. The second request is the
        // outbox's retry of `a` and `b` with `c`, sent while the first is still being stored.
        const a = madeAfter(first, one.deps.now() + 2 * HOUR, {
          categories: { necessary: true, analytics: true, ads: true },
        });
        const b = madeAfter(a, one.deps.now(), { categories: { necessary: true, analytics: true } });
        const c = madeAfter(b, one.deps.now(), {
          ...REJECT,
          categories: { necessary: true, analytics: false, ads: false },
        });
        await Promise.all([post(one.app, [a, b]), post(two.app, [a, b, c])]);
        const decision = await decisionOf(one.app, device);
        expect(decision?.receiptId).toBe(c.receiptId);
        expect(decision?.categories).toEqual({ necessary: true, analytics: false, ads: false });
      }
    });

    it('migration 006 fills the order of the rows stored before it', async () => {
      // Back to the schema of 005 on a copy of the table, with a row as 005 stored it, then migrate again.
      const device = newDevice();
      const prev = makeReceipt(SHOP, { deviceId: device });
      const { app, deps: d } = buildApp(db);
      const receivedAt = d.now();
      const fast = made(device, receivedAt + 10 * DAY, { previousReceiptId: prev.receiptId });
      await post(app, [fast]);
      await db.query('DELETE FROM device_consent WHERE device_id = $1', [device]);
      await db.query(`ALTER TABLE device_consent DROP COLUMN order_at, DROP COLUMN previous_receipt_id`);
      await db.query(`DELETE FROM assenso_migrations WHERE name LIKE '006-%'`);
      await db.query(
        `INSERT INTO device_consent (site_id, device_id, kind, item_id, granted, receipt_id, revision, method, collected_at, received_at, expires_at)
         VALUES ($1, $2, 'receipt', '', true, $3, 'r', 'accept-all', $4, $5, $6),
                ($1, $2, 'category', 'analytics', true, $3, 'r', 'accept-all', $4, $5, $6)`,
        [SHOP, device, fast.receiptId, fast.collectedAt, receivedAt, fast.expiresAt],
      );
      expect((await migrate(db)).filter((m) => m.startsWith('006-'))).toHaveLength(1);
      const { rows } = await db.query<{
        kind: string;
        order_at: string;
        previous_receipt_id: string | null;
        expires_at: string;
      }>(
        'SELECT kind, order_at, previous_receipt_id, expires_at FROM device_consent WHERE device_id = $1 ORDER BY kind',
        [device],
      );
      const ahead = fast.collectedAt - (receivedAt + CLOCK_TOLERANCE_MS);
      expect(
        rows.map((r) => [r.kind, Number(r.order_at), r.previous_receipt_id, Number(r.expires_at)]),
      ).toEqual([
        ['category', receivedAt + CLOCK_TOLERANCE_MS, prev.receiptId, fast.expiresAt - ahead],
        ['receipt', receivedAt + CLOCK_TOLERANCE_MS, prev.receiptId, fast.expiresAt - ahead],
      ]);
    });
  });
});
