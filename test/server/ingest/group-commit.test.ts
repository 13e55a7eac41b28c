/**
 * The group committer on both databases: requests submitted together share one statement, and each keeps its
 * own guarantees (committed before it resolves, one row per id, a failing request fails alone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/protocol/canonical.ts';
import type { Receipt } from '../../../src/protocol/receipt.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { createGroupCommitter } from '../../../src/server/ingest/group-commit.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { databases } from '../../helpers/databases.ts';
import { countReceipts, DB_START_TIMEOUT, failDerivedStateOf, idsOf, makeReceipt } from '../helpers.ts';

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
