import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Queryable } from '../../../src/server/db/db.ts';
import { latestCheckpoint } from '../../../src/server/log/checkpoints-repo.ts';
import { createKeyring, createMemoryKeyring, generateSigningKey } from '../../../src/server/log/keys.ts';
import { startSequencer } from '../../../src/server/log/sequencer.ts';
import { verifyLog } from '../../../src/server/log/verify.ts';
import { databases } from '../../helpers/databases.ts';
import { insertReceipt, insertReceipts } from './fixtures.ts';

const SITE = 'shop';

/** What an attacker with SQL access does first: switch off the append-only triggers. */
async function tamper(db: Queryable, ...statements: [string, unknown[]?][]) {
  for (const table of ['receipts', 'log_nodes', 'log_checkpoints'])
    await db.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
  for (const [sql, params] of statements) await db.query(sql, params ?? []);
}

describe.each(databases)('verify on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Awaited<ReturnType<typeof d.create>>;
    const keyring = createMemoryKeyring();
    let clock = 1_770_000_000_000;
    let receipts: Awaited<ReturnType<typeof insertReceipts>>;
    const sequence = () =>
      startSequencer({ db, keyring, now: () => clock++, intervalMs: 0, batchSize: 5 }).runOnce();

    beforeEach(async () => {
      db = await d.create();
      // 12 sequenced receipts (checkpoints at 5, 10, 12), one more checkpoint at 14, and one pending receipt.
      receipts = await insertReceipts(db, keyring, SITE, 12);
      await sequence();
      receipts.push(...(await insertReceipts(db, keyring, SITE, 2, 1_760_000_001_000)));
      await sequence();
      receipts.push(await insertReceipt(db, keyring, SITE, 1_760_000_002_000));
      await insertReceipts(db, keyring, 'blog', 3);
      await sequence();
      receipts.push(await insertReceipt(db, keyring, SITE, 1_760_000_003_000));
    }, 120_000);
    afterEach(async () => {
      await db.drop();
    });

    it('passes an untouched log and counts what it checked', async () => {
      const report = await verifyLog({ db, keyring, pageSize: 4 });
      expect(report.ok).toBe(true);
      expect(report.first).toBeUndefined();
      expect(report.sites).toEqual([
        { siteId: 'blog', receipts: 3, treeSize: 3, checkpoints: 1, problems: [], truncated: false },
        { siteId: SITE, receipts: 16, treeSize: 15, checkpoints: 5, problems: [], truncated: false },
      ]);
    });

    it('catches an edited entry and names the receipt and its leaf index', async () => {
      const victim = receipts[6]!;
      const forged = victim.entry.replace('"analytics":true', '"analytics":false');
      expect(forged).not.toBe(victim.entry);
      await tamper(db, ['UPDATE receipts SET entry = $1 WHERE receipt_id = $2', [forged, victim.receiptId]]);
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.ok).toBe(false);
      expect(report.first).toMatchObject({
        siteId: SITE,
        kind: 'receipt-signature',
        receiptId: victim.receiptId,
        leafIndex: 6,
      });
      expect(report.sites[0]!.problems.map((p) => p.kind)).toEqual([
        'receipt-signature',
        'receipt-leaf-hash',
        'leaf-mismatch',
        'log-node',
        'checkpoint-root',
        'checkpoint-root',
      ]);
    });

    it('catches an edited entry whose leaf hash was recomputed too', async () => {
      const victim = receipts[2]!;
      const forged = victim.entry.replace('"method":"accept-all"', '"method":"reject-all"');
      const { createHash } = await import('node:crypto');
      const hash = createHash('sha256')
        .update(Buffer.from([0]))
        .update(forged)
        .digest('hex');
      await tamper(db, [
        "UPDATE receipts SET entry = $1, leaf_hash = $2, method = 'reject-all' WHERE receipt_id = $3",
        [forged, hash, victim.receiptId],
      ]);
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.first).toMatchObject({
        kind: 'receipt-signature',
        receiptId: victim.receiptId,
        leafIndex: 2,
      });
    });

    it('catches a column that no longer says what the signed entry says', async () => {
      await tamper(db, [
        "UPDATE receipts SET device_id = 'ffffffffffffffffffffffffffffffff' WHERE receipt_id = $1",
        [receipts[9]!.receiptId],
      ]);
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.first).toMatchObject({
        kind: 'receipt-entry',
        receiptId: receipts[9]!.receiptId,
        leafIndex: 9,
      });
      expect(report.first!.message).toMatch(/device_id/);
    });

    it('catches a deleted row in the middle of the log', async () => {
      await tamper(db, ['DELETE FROM receipts WHERE receipt_id = $1', [receipts[4]!.receiptId]]);
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.first).toMatchObject({ kind: 'missing-leaf', leafIndex: 4 });
      expect(report.first!.message).toContain(receipts[5]!.receiptId);
      // Rebuilt from the logged leaf hash, the tree still matches every checkpoint: only the gap is reported.
      expect(report.sites[0]!.problems).toHaveLength(1);
    });

    it('catches deleting the newest sequenced receipts', async () => {
      await tamper(db, ['DELETE FROM receipts WHERE leaf_index >= 13 AND site_id = $1', [SITE]]);
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.first).toMatchObject({ kind: 'missing-leaf', leafIndex: 13 });
      expect(report.sites[0]!.problems.map((p) => p.kind)).toEqual([
        'missing-leaf',
        'checkpoint-beyond-log',
        'checkpoint-beyond-log',
      ]);
    });

    it('catches two rows whose leaf indexes were swapped, naming the first', async () => {
      const [a, b] = [receipts[3]!, receipts[8]!];
      await tamper(
        db,
        ['UPDATE receipts SET leaf_index = -1 WHERE receipt_id = $1', [a.receiptId]],
        ['UPDATE receipts SET leaf_index = 3 WHERE receipt_id = $1', [b.receiptId]],
        ['UPDATE receipts SET leaf_index = 8 WHERE receipt_id = $1', [a.receiptId]],
      );
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.first).toMatchObject({ kind: 'leaf-mismatch', receiptId: b.receiptId, leafIndex: 3 });
      const kinds = report.sites[0]!.problems.map((p) => `${p.kind}:${p.leafIndex ?? p.treeSize ?? ''}`);
      expect(kinds).toContain('leaf-mismatch:8');
      expect(kinds).toContain('checkpoint-root:5');
    });

    it('catches an edited receipt that is not sequenced yet', async () => {
      const pending = receipts.at(-1)!;
      await tamper(db, [
        "UPDATE receipts SET entry = replace(entry, 'matomo', 'matom0') WHERE receipt_id = $1",
        [pending.receiptId],
      ]);
      const report = await verifyLog({ db, keyring, siteId: SITE });
      expect(report.first).toMatchObject({
        kind: 'receipt-signature',
        receiptId: pending.receiptId,
        leafIndex: null,
      });
    });

    it('catches forged checkpoints and a corrupted subtree hash', async () => {
      const head = (await latestCheckpoint(db, SITE))!;
      const root = Buffer.from(head.rootHash, 'hex');
      root[0]! ^= 1;
      const forgedNote = head.note.replace(
        Buffer.from(head.rootHash, 'hex').toString('base64'),
        root.toString('base64'),
      );
      await tamper(
        db,
        [
          'UPDATE log_checkpoints SET root_hash = $1, note = $2 WHERE site_id = $3 AND tree_size = 15',
          [root.toString('hex'), forgedNote, SITE],
        ],
        [
          "UPDATE log_nodes SET hash = decode(repeat('00', 32), 'hex') WHERE site_id = $1 AND level = 2 AND idx = 0",
          [SITE],
        ],
      );
      const report = await verifyLog({ db, keyring, siteId: SITE });
      const kinds = report.sites[0]!.problems.map((p) => `${p.kind}:${p.treeSize ?? p.leafIndex}`);
      expect(kinds).toEqual(['log-node:3', 'checkpoint-signature:15', 'checkpoint-root:15']);
    });

    it('reports receipts signed by a key it does not know', async () => {
      const other = createKeyring([generateSigningKey(1)]);
      const report = await verifyLog({ db, keyring: other, siteId: 'blog' });
      expect(report.first).toMatchObject({ kind: 'receipt-signature', leafIndex: 0 });
      expect(report.sites[0]!.problems.filter((p) => p.kind === 'checkpoint-signature')).toHaveLength(1);
    });

    it('with a kept checkpoint, catches a log rewritten by someone holding the signing key', async () => {
      const kept = (await latestCheckpoint(db, SITE))!.note;
      // Remove a receipt, wipe the log and sequence everything again: a self-consistent, re-signed log.
      await tamper(
        db,
        ['DELETE FROM receipts WHERE receipt_id = $1', [receipts[1]!.receiptId]],
        ['DELETE FROM log_nodes WHERE site_id = $1', [SITE]],
        ['DELETE FROM log_checkpoints WHERE site_id = $1', [SITE]],
        ['UPDATE receipts SET leaf_index = NULL WHERE site_id = $1', [SITE]],
      );
      await sequence();
      expect((await verifyLog({ db, keyring, siteId: SITE })).ok).toBe(true);
      const report = await verifyLog({ db, keyring, siteId: SITE, trusted: [kept] });
      expect(report.first).toMatchObject({ kind: 'trusted-checkpoint', treeSize: 15 });
    });
  });
});
