/**
 * The group committer on both databases: requests submitted together share one statement, and each keeps its
 * own guarantees (committed before it resolves, one row per id, a failing request fails alone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/protocol/canonical.ts';
import type { Receipt } from '../../../src/protocol/receipt.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { deviceChoices } from '../../../src/server/db/receipts-repo.ts';
import { createGroupCommitter } from '../../../src/server/ingest/group-commit.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { databases } from '../../helpers/databases.ts';
import { countReceipts, DB_START_TIMEOUT, failDerivedStateOf, idsOf, makeReceipt, SHOP } from '../helpers.ts';

const valid = (receipts: Receipt[]) =>
  receipts.map((receipt) => ({ receipt, canonical: canonicalJson(receipt) }));

describe.each(databases)('group commit on $name', (d) => {
  describe.skipIf(!d.available)('committer', () => {
    let db: Db & { drop(): Promise<void> };
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    /** The real database, counting the ingest statements sent to it. */
    function counted() {
      const sent: string[] = [];
      const wrapped: Db = {
        driver: db.driver,
        query: (sql, params, options) => {
          if (sql.includes('INSERT INTO receipts')) sent.push(sql);
          return db.query(sql, params, options);
        },
        transaction: (fn) => db.transaction(fn),
        close: () => db.close(),
      };
      return { wrapped, sent };
    }

    it('commits requests submitted together in one statement, each answered with its own rows', async () => {
      const { wrapped, sent } = counted();
      const commit = createGroupCommitter({ db: wrapped, keyring: createMemoryKeyring(), now: Date.now });
      const before = makeReceipt();
      await commit(valid([before]));
      sent.length = 0;
      const shared = makeReceipt();
      const lists = [
        [makeReceipt(), makeReceipt()],
        [shared],
        [before],
        [shared, makeReceipt()],
        Array.from({ length: 20 }, () => makeReceipt()),
      ];
      const results = await Promise.all(lists.map((list) => commit(valid(list))));
      expect(sent).toHaveLength(1);
      // Each request gets a row for each of its ids; only the request that supplied a new row counts it.
      results.forEach((result, i) => {
        expect([...result.rows.keys()].sort()).toEqual(idsOf(lists[i] as Receipt[]).sort());
      });
      expect([...(results[0]?.inserted ?? [])].sort()).toEqual(idsOf(lists[0] as Receipt[]).sort());
      expect(results[1]?.inserted.has(shared.receiptId)).toBe(true);
      expect(results[3]?.inserted.has(shared.receiptId)).toBe(false);
      expect(results[3]?.rows.get(shared.receiptId)).toEqual(results[1]?.rows.get(shared.receiptId));
      expect(results[2]?.inserted.size).toBe(0);
      expect(results[2]?.rows.get(before.receiptId)?.receiptId).toBe(before.receiptId);
      expect(await countReceipts(db, idsOf(lists.flat()))).toBe(new Set(idsOf(lists.flat())).size);
    });

    it("derives the device's current choices in the same statement, the newest per choice", async () => {
      const commit = createGroupCommitter({ db, keyring: createMemoryKeyring(), now: Date.now });
      const deviceId = makeReceipt().deviceId as string;
      const t = Date.now();
      const first = makeReceipt(SHOP, {
        deviceId,
        collectedAt: t,
        categories: { necessary: true, analytics: true },
        services: { matomo: true },
        preferences: { news: { email: true } },
        expiries: { analytics: t + 1000, news: t + 2000 },
      });
      // Collected at the same moment, in a later request of the same group: it wins where both decide.
      const second = makeReceipt(SHOP, { deviceId, collectedAt: t, categories: { analytics: false } });
      // Collected earlier: it changes nothing the others decided, and adds what they did not.
      const older = makeReceipt(SHOP, { deviceId, collectedAt: t - 1, services: { youtube: false } });
      const noDevice = makeReceipt(SHOP, { deviceId: null });
      await Promise.all([[first], [second, noDevice], [older]].map((list) => commit(valid(list))));
      const rows = await deviceChoices(db, SHOP, deviceId);
      expect(rows.map((r) => [r.kind, r.itemId, r.granted, r.receiptId, r.revision, r.expiresAt])).toEqual([
        ['category', 'analytics', false, second.receiptId, second.revision, second.expiresAt],
        ['category', 'necessary', true, first.receiptId, first.revision, first.expiresAt],
        ['preference', 'news.email', true, first.receiptId, first.revision, t + 2000],
        ['receipt', '', true, second.receiptId, second.revision, second.expiresAt],
        ['service', 'matomo', true, second.receiptId, second.revision, second.expiresAt],
        ['service', 'youtube', false, older.receiptId, older.revision, older.expiresAt],
      ]);
      expect(rows.every((r) => r.method === 'accept-all' && r.siteId === SHOP)).toBe(true);
      const stored = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM device_consent WHERE receipt_id = $1',
        [noDevice.receiptId],
      );
      expect(stored.rows[0]?.n).toBe(0);
    });

    it('commits each request of a failing group alone: only the one at fault fails', async () => {
      const { wrapped, sent } = counted();
      const commit = createGroupCommitter({ db: wrapped, keyring: createMemoryKeyring(), now: Date.now });
      const doomed = makeReceipt();
      const good = Array.from({ length: 5 }, () => [makeReceipt()]);
      const failing = await failDerivedStateOf(db, [doomed.deviceId as string]);
      let outcomes: PromiseSettledResult<unknown>[];
      try {
        outcomes = await Promise.allSettled([...good, [doomed]].map((list) => commit(valid(list))));
      } finally {
        await failing.remove();
      }
      // One group statement, then one per request.
      expect(sent).toHaveLength(1 + good.length + 1);
      expect(outcomes.map((o) => o.status)).toEqual([...good.map(() => 'fulfilled'), 'rejected']);
      expect(String((outcomes.at(-1) as PromiseRejectedResult).reason)).toContain('disk full');
      expect(await countReceipts(db, idsOf(good.flat()))).toBe(good.length);
      expect(await countReceipts(db, [doomed.receiptId])).toBe(0);
    });
  });
});
