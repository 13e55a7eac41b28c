import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createPostgresDb } from '../../../src/server/db/postgres.ts';
import { latestCheckpoint } from '../../../src/server/log/checkpoints-repo.ts';
import { verifyCheckpointNote } from '../../../src/server/log/checkpoint.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { createFrontier } from '../../../src/server/log/frontier.ts';
import { SEQUENCER_LOCK, startSequencer } from '../../../src/server/log/sequencer.ts';
import { createMetrics } from '../../../src/server/metrics.ts';
import { databases, POSTGRES_URL } from '../../helpers/databases.ts';
import { insertReceipt, insertReceipts } from './fixtures.ts';
import { leafHash } from '../../../src/server/log/merkle.ts';

const SITE = 'shop';

async function leafOrder(db: Db, siteId: string) {
  const res = await db.query<{ receipt_id: string; leaf_index: number; entry: string }>(
    'SELECT receipt_id, leaf_index, entry FROM receipts WHERE site_id = $1 ORDER BY leaf_index',
    [siteId],
  );
  return res.rows.map((r) => ({ ...r, leaf_index: Number(r.leaf_index) }));
}

const rootOf = (entries: string[]) => {
  const f = createFrontier();
  for (const e of entries) f.append(leafHash(e));
  return Buffer.from(f.root()).toString('hex');
};

describe.each(databases)('sequencer on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Awaited<ReturnType<typeof d.create>>;
    const keyring = createMemoryKeyring();
    let clock = 1_770_000_000_000;
    const now = () => clock;
    beforeEach(async () => {
      db = await d.create();
    }, 120_000);
    afterEach(async () => {
      await db.drop();
    });

    it('takes each leaf hash stored at ingest, and hashes the entry of a row whose leaf_hash is malformed', async () => {
      const a = await insertReceipt(db, keyring, SITE, 1000);
      const b = await insertReceipt(db, keyring, SITE, 2000);
      // A stored hash the sequencer trusts is what ingest computed: the root is the entries' root either way.
      await db.query(`ALTER TABLE receipts DISABLE TRIGGER USER`);
      await db.query("UPDATE receipts SET leaf_hash = 'not hex' WHERE receipt_id = $1", [b.receiptId]);
      await db.query(`ALTER TABLE receipts ENABLE TRIGGER USER`);
      await startSequencer({ db, keyring, now, intervalMs: 0 }).runOnce();
      expect((await latestCheckpoint(db, SITE))!.rootHash).toBe(rootOf([a.entry, b.entry]));
    });

    it('assigns contiguous leaf indexes in (received_at, receipt_id) order and signs a checkpoint of the root', async () => {
      // Inserted out of order; two share a received_at and are ordered by receipt id.
      const late = await insertReceipt(db, keyring, SITE, 3000);
      const a = await insertReceipt(db, keyring, SITE, 1000, {
        receiptId: '00000000-0000-4000-8000-00000000000b',
      });
      const b = await insertReceipt(db, keyring, SITE, 1000, {
        receiptId: '00000000-0000-4000-8000-00000000000a',
      });
      const mid = await insertReceipt(db, keyring, SITE, 2000);
      const other = await insertReceipt(db, keyring, 'blog', 500);

      const sequencer = startSequencer({ db, keyring, now, intervalMs: 0 });
      const result = await sequencer.runOnce();
      expect(result.locked).toBe(true);
      expect(result.sites).toEqual([
        { siteId: 'blog', appended: 1, treeSize: 1, checkpoint: true },
        { siteId: SITE, appended: 4, treeSize: 4, checkpoint: true },
      ]);
      const order = await leafOrder(db, SITE);
      expect(order.map((r) => r.receipt_id)).toEqual([
        b.receiptId,
        a.receiptId,
        mid.receiptId,
        late.receiptId,
      ]);
      expect(order.map((r) => r.leaf_index)).toEqual([0, 1, 2, 3]);
      expect((await leafOrder(db, 'blog')).map((r) => [r.receipt_id, r.leaf_index])).toEqual([
        [other.receiptId, 0],
      ]);

      const head = await latestCheckpoint(db, SITE);
      expect(head).toMatchObject({ siteId: SITE, treeSize: 4, createdAt: clock, origin: 'assenso/log/shop' });
      expect(head!.rootHash).toBe(rootOf([b.entry, a.entry, mid.entry, late.entry]));
      const key = keyring.publicKeys()[0]!;
      expect(head!.kid).toBe(key.kid);
      const parsed = verifyCheckpointNote(head!.note, key.publicKey);
      expect(parsed).toMatchObject({ origin: 'assenso/log/shop', treeSize: 4, timestamp: clock });
      expect(Buffer.from(parsed!.root).toString('hex')).toBe(head!.rootHash);
      expect(keyring.verify(head!.kid, Buffer.from(parsed!.text), head!.sig)).toBe(true);
      await sequencer.stop();
    });

    it('appends later receipts after the existing leaves and publishes only when the tree grew', async () => {
      const first = await insertReceipts(db, keyring, SITE, 5);
      const sequencer = startSequencer({ db, keyring, now, intervalMs: 0 });
      await sequencer.runOnce();
      expect(await sequencer.runOnce()).toEqual({ locked: true, sites: [] });
      // A receipt committed late with an earlier server time still goes after what is already in the log.
      const second = [
        await insertReceipt(db, keyring, SITE, 1),
        ...(await insertReceipts(db, keyring, SITE, 6)),
      ];
      clock += 1000;
      await sequencer.runOnce();
      const order = await leafOrder(db, SITE);
      expect(order.map((r) => r.receipt_id)).toEqual([...first, ...second].map((r) => r.receiptId));
      expect(order.map((r) => r.leaf_index)).toEqual([...Array(12).keys()]);
      const head = await latestCheckpoint(db, SITE);
      expect(head).toMatchObject({ treeSize: 12, createdAt: clock });
      expect(head!.rootHash).toBe(rootOf(order.map((r) => r.entry)));
      const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log_checkpoints');
      expect(count.rows[0]!.n).toBe(2);
      // Every perfect subtree of a 12-leaf tree is stored: 12 leaves + 6 + 3 + 1.
      const nodes = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log_nodes');
      expect(nodes.rows[0]!.n).toBe(22);
      await sequencer.stop();
    });

    it('works through a backlog in batches, one checkpoint per batch', async () => {
      const receipts = await insertReceipts(db, keyring, SITE, 11);
      const sequencer = startSequencer({ db, keyring, now, intervalMs: 0, batchSize: 4 });
      const result = await sequencer.runOnce();
      expect(result.sites).toEqual([{ siteId: SITE, appended: 11, treeSize: 11, checkpoint: true }]);
      const sizes = await db.query<{ tree_size: number }>(
        'SELECT tree_size FROM log_checkpoints ORDER BY tree_size',
      );
      expect(sizes.rows.map((r) => Number(r.tree_size))).toEqual([4, 8, 11]);
      expect((await latestCheckpoint(db, SITE))!.rootHash).toBe(rootOf(receipts.map((r) => r.entry)));
    });

    it('re-signs an unchanged head once it is older than refreshAfterMs', async () => {
      await insertReceipts(db, keyring, SITE, 3);
      const sequencer = startSequencer({ db, keyring, now, intervalMs: 0, refreshAfterMs: 60_000 });
      await sequencer.runOnce();
      const before = await latestCheckpoint(db, SITE);
      clock += 30_000;
      expect((await sequencer.runOnce()).sites).toEqual([]);
      clock += 31_000;
      expect((await sequencer.runOnce()).sites).toEqual([
        { siteId: SITE, appended: 0, treeSize: 3, checkpoint: true },
      ]);
      const after = await latestCheckpoint(db, SITE);
      expect(after).toMatchObject({ treeSize: 3, rootHash: before!.rootHash, createdAt: clock });
      expect(after!.note).not.toBe(before!.note);
    });

    it('counts runs, appended leaves and checkpoints for /metrics', async () => {
      const metrics = createMetrics();
      await insertReceipts(db, keyring, SITE, 3);
      const sequencer = startSequencer({ db, keyring, now, intervalMs: 0, metrics });
      await sequencer.runOnce();
      await sequencer.runOnce();
      const text = metrics.render();
      expect(text).toMatch(/assenso_log_runs_total\{outcome="ok"\} 2/);
      expect(text).toMatch(/assenso_log_leaves_total\{site="shop"\} 3/);
      expect(text).toMatch(/assenso_log_checkpoints_total\{site="shop"\} 1/);
    });

    it('runs on its own timer until stopped', async () => {
      const sequencer = startSequencer({ db, keyring, intervalMs: 10 });
      await insertReceipts(db, keyring, SITE, 3);
      let head = await latestCheckpoint(db, SITE);
      for (let i = 0; i < 500 && head?.treeSize !== 3; i++) {
        await new Promise((r) => setTimeout(r, 10));
        head = await latestCheckpoint(db, SITE);
      }
      await sequencer.stop();
      expect(head?.treeSize).toBe(3);
      await insertReceipts(db, keyring, SITE, 1);
      await new Promise((r) => setTimeout(r, 50));
      expect((await latestCheckpoint(db, SITE))?.treeSize).toBe(3);
    });

    it('the database refuses to change or delete log rows and signed receipt columns', async () => {
      const [r] = await insertReceipts(db, keyring, SITE, 1);
      await startSequencer({ db, keyring, now, intervalMs: 0 }).runOnce();
      await expect(
        db.query("UPDATE receipts SET entry = '{}' WHERE receipt_id = $1", [r!.receiptId]),
      ).rejects.toThrow(/signed and cannot change/);
      await expect(
        db.query('UPDATE receipts SET leaf_index = 7 WHERE receipt_id = $1', [r!.receiptId]),
      ).rejects.toThrow(/already has leaf index/);
      await expect(db.query('DELETE FROM receipts')).rejects.toThrow(/append-only/);
      await expect(db.query('TRUNCATE receipts CASCADE')).rejects.toThrow(/append-only/);
      await expect(db.query('DELETE FROM log_nodes')).rejects.toThrow(/append-only/);
      await expect(db.query("UPDATE log_checkpoints SET note = ''")).rejects.toThrow(/append-only/);
      // The identity linker's update stays allowed.
      await db.query("UPDATE receipts SET subject_id = 'subj' WHERE receipt_id = $1", [r!.receiptId]);
    });

    it.runIf(d.name === 'postgres')(
      'leaves the work to the instance holding the sequencer lock',
      async () => {
        await insertReceipts(db, keyring, SITE, 2);
        const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
        const other = createPostgresDb(POSTGRES_URL, { schema, max: 1 });
        try {
          await other.transaction(async (tx) => {
            await tx.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
            const result = await startSequencer({ db, keyring, now, intervalMs: 0 }).runOnce();
            expect(result).toEqual({ locked: false, sites: [] });
          });
          expect(await latestCheckpoint(db, SITE)).toBeUndefined();
          expect((await startSequencer({ db, keyring, now, intervalMs: 0 }).runOnce()).locked).toBe(true);
        } finally {
          await other.close();
        }
      },
    );

    it.runIf(d.name === 'postgres')(
      'two instances sequencing at once never give one index twice',
      async () => {
        const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
        const other = createPostgresDb(POSTGRES_URL, { schema, max: 2 });
        try {
          const a = startSequencer({ db, keyring, now, intervalMs: 0, batchSize: 3 });
          const b = startSequencer({ db: other, keyring, now, intervalMs: 0, batchSize: 3 });
          for (let round = 0; round < 5; round++) {
            await insertReceipts(db, keyring, SITE, 7, 1_760_000_000_000 + round * 100);
            await Promise.all([a.runOnce(), b.runOnce(), a.runOnce(), b.runOnce()]);
          }
          await a.runOnce();
          const order = await leafOrder(db, SITE);
          expect(order.map((r) => r.leaf_index)).toEqual([...Array(35).keys()]);
          const head = await latestCheckpoint(db, SITE);
          expect(head).toMatchObject({ treeSize: 35, rootHash: rootOf(order.map((r) => r.entry)) });
        } finally {
          await other.close();
        }
      },
    );
  });
});
