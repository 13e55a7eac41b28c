import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createAccessLog } from '../../../src/server/protection/access-log.ts';
import { createContactCrypto, parseContactKeys } from '../../../src/server/protection/contact-crypto.ts';
import { createContactStore } from '../../../src/server/protection/contact-store.ts';
import { exportSubject } from '../../../src/server/protection/subject-export.ts';
import { databases } from '../../helpers/databases.ts';

const hasher = {
  hash: (kind: string, v: string) => createHmac('sha256', 'k').update(`${kind}\0${v}`).digest('hex'),
};
const crypto = createContactCrypto(
  parseContactKeys({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
);

/** Inserts a receipt row as ingest stores it (entry, leaf hash and signature are opaque here). */
async function receipt(db: Db, siteId: string, deviceId: string, subjectId: string | null, at: number) {
  const id = randomUUID();
  const entry = JSON.stringify({ receipt: { receiptId: id, siteId, deviceId }, receivedAt: at });
  await db.query(
    `INSERT INTO receipts (receipt_id, site_id, device_id, subject_id, method, collected_at, received_at, entry, leaf_hash, kid, sig)
     VALUES ($1, $2, $3, $4, 'banner-accept-all', $5, $5, $6, 'h', 'kid', 'sig')`,
    [id, siteId, deviceId, subjectId, at, entry],
  );
  return id;
}

describe.each(databases)('per-person export on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let mine: string[];
    beforeAll(async () => {
      db = await d.create();
      const contacts = createContactStore({ db, crypto, pseudonymizer: hasher });
      await contacts.put({ siteId: 'shop', subjectId: 's_ada', kind: 'email', value: 'ada@example.com' });
      await contacts.put({ siteId: 'shop', subjectId: 's_bob', kind: 'email', value: 'bob@example.com' });
      for (const [device, subject] of [
        ['d_ada_pc', 's_ada'],
        ['d_ada_phone', 's_ada'],
        ['d_bob', 's_bob'],
      ]) {
        await db.query(
          `INSERT INTO identity_links (site_id, device_id, subject_id, via, browser, linked_at, first_seen, last_seen)
           VALUES ('shop', $1, $2, 'token', 'Firefox · Linux', 1, 1, 2)`,
          [device, subject],
        );
      }
      mine = [
        await receipt(db, 'shop', 'd_ada_pc', 's_ada', 10),
        await receipt(db, 'shop', 'd_ada_phone', 's_ada', 20),
      ];
      await receipt(db, 'shop', 'd_bob', 's_bob', 30);
      await receipt(db, 'blog', 'd_ada_pc', 's_ada', 40); // same ids on another site: not this site's data
      await db.query(
        `INSERT INTO device_consent (site_id, device_id, kind, item_id, granted, receipt_id, revision, method, collected_at, received_at, order_at, expires_at)
         VALUES ('shop', 'd_ada_phone', 'category', 'analytics', true, $1, 'r1', 'banner-accept-all', 20, 20, 20, 99)`,
        [mine[1]],
      );
      await db.query(
        `INSERT INTO email_sessions (id_hash, site_id, subject_id, csrf, created_at, expires_at)
         VALUES ('secret-session-hash', 'shop', 's_ada', 'secret-csrf', 1, 2)`,
      );
      const log = createAccessLog({ db, now: () => 77 });
      await log.append({
        actor: { keyId: 'k'.repeat(16), role: 'operator', siteId: null, ip: '10.0.0.1', userAgent: 'ua' },
        action: 'contacts.read',
        siteId: 'shop',
        subjectId: 's_ada',
      });
    });
    afterAll(async () => db.drop());

    it("gathers the person's rows from every table, decrypted contacts, signed receipts and who looked", async () => {
      const contacts = createContactStore({ db, crypto, pseudonymizer: hasher });
      const doc = await exportSubject(
        { db, contacts, now: () => 5 },
        { siteId: 'shop', subjectId: 's_ada', contacts: 'plain' },
      );
      expect(doc).toMatchObject({
        format: 'assenso-subject-export/v1',
        generatedAt: 5,
        siteId: 'shop',
        subjectId: 's_ada',
      });
      expect(doc.contacts.map((c) => [c.kind, c.value])).toEqual([['email', 'ada@example.com']]);
      expect(doc.devices).toEqual(['d_ada_pc', 'd_ada_phone']);
      expect(doc.receipts.map((r) => r.receiptId)).toEqual(mine);
      expect(doc.receipts[0]).toMatchObject({
        kid: 'kid',
        sig: 'sig',
        entry: { receipt: { deviceId: 'd_ada_pc' } },
      });
      expect(doc.records.identity_links?.map((r) => r.device_id).sort()).toEqual(['d_ada_pc', 'd_ada_phone']);
      expect(doc.records.device_consent).toEqual([
        expect.objectContaining({ device_id: 'd_ada_phone', item_id: 'analytics' }),
      ]);
      expect(doc.records.email_sessions).toHaveLength(1);
      expect(doc.accessLog).toEqual([{ at: 77, action: 'contacts.read', role: 'operator' }]);
      const text = JSON.stringify(doc);
      for (const never of ['bob', 'd_bob', 'secret-session-hash', 'secret-csrf', '10.0.0.1', 'v1.k1.']) {
        expect(text).not.toContain(never);
      }
    });

    it('masks contact data, or leaves it out', async () => {
      const contacts = createContactStore({ db, crypto, pseudonymizer: hasher });
      const masked = await exportSubject(
        { db, contacts },
        { siteId: 'shop', subjectId: 's_ada', contacts: 'masked' },
      );
      expect(masked.contacts.map((c) => c.value)).toEqual(['a•••@example.com']);
      const none = await exportSubject(
        { db, contacts },
        { siteId: 'shop', subjectId: 's_ada', contacts: 'none' },
      );
      expect(none.contacts).toEqual([]);
      expect(JSON.stringify(none)).not.toContain('example.com');
    });
  });
});
