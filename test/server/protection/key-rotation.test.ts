import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import {
  createContactCrypto,
  parseContactKeys,
  RetiredKeyError,
} from '../../../src/server/protection/contact-crypto.ts';
import { createContactStore } from '../../../src/server/protection/contact-store.ts';
import { RetireCurrentKeyError, rotateContactKeys } from '../../../src/server/protection/key-rotation.ts';
import { databases } from '../../helpers/databases.ts';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const hasher = {
  hash: (kind: string, v: string) =>
    createHmac('sha256', 'test-secret').update(`${kind}\0${v}`).digest('hex'),
};
const oldCrypto = createContactCrypto(parseContactKeys({ current: 'k1', keys: { k1 } }));
const newCrypto = createContactCrypto(parseContactKeys({ current: 'k2', keys: { k1, k2 } }));

class Crash extends Error {}

describe.each(databases)('contact key rotation on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeEach(async () => {
      db = await d.create();
    });
    afterEach(async () => db.drop());

    const people = Array.from({ length: 23 }, (_, i) => ({
      siteId: i % 2 ? 'shop' : 'blog',
      subjectId: `s_${String(i).padStart(2, '0')}`,
      kind: 'email' as const,
      value: `person${i}@example.com`,
    }));

    async function seed() {
      const store = createContactStore({ db, crypto: oldCrypto, pseudonymizer: hasher });
      for (const p of people) await store.put(p);
    }

    async function readAll(crypto = newCrypto) {
      const store = createContactStore({ db, crypto, pseudonymizer: hasher });
      return Promise.all(people.map((p) => store.get(p.siteId, p.subjectId, p.kind)));
    }

    it('crashes mid-way, keeps serving every value, then resumes and loses nothing', async () => {
      await seed();
      let batches = 0;
      await expect(
        rotateContactKeys({
          db,
          crypto: newCrypto,
          batchSize: 5,
          onBatch: () => {
            if (++batches === 2) throw new Crash('killed after two batches');
          },
        }),
      ).rejects.toBeInstanceOf(Crash);

      const { rows: mid } = await db.query<{ key_id: string; n: number | string }>(
        'SELECT key_id, count(*) AS n FROM contacts GROUP BY key_id ORDER BY key_id',
      );
      expect(mid.map((r) => [r.key_id, Number(r.n)])).toEqual([
        ['k1', 13],
        ['k2', 10],
      ]);
      // The server keeps working meanwhile: every value reads, new writes go under the new key.
      expect(await readAll()).toEqual(people.map((p) => p.value));
      const live = createContactStore({ db, crypto: newCrypto, pseudonymizer: hasher });
      await live.put({ siteId: 'shop', subjectId: 's_new', kind: 'email', value: 'new@example.com' });

      const seen: number[] = [];
      const report = await rotateContactKeys({
        db,
        crypto: newCrypto,
        batchSize: 5,
        onBatch: (p) => {
          seen.push(p.rewrapped);
        },
      });
      expect(report.resumed).toBe(true);
      expect(report.rewrapped).toBe(23);
      expect(report.unreadable).toBe(0);
      expect(seen).toEqual([15, 20, 23]); // continued from the committed cursor, nothing done twice
      expect(report.keys).toEqual([{ kid: 'k2', count: 24, status: 'current' }]);
      expect(await readAll()).toEqual(people.map((p) => p.value));
      expect(await live.findSubject('shop', 'email', 'person1@example.com')).toBe('s_01');

      // Idempotent: a new run finds nothing to do.
      const again = await rotateContactKeys({ db, crypto: newCrypto, batchSize: 5 });
      expect(again).toMatchObject({ resumed: false, rewrapped: 0, batches: 0 });
      const { rows: runs } = await db.query<{ finished_at: number | null }>(
        'SELECT finished_at FROM contact_key_rotations ORDER BY id',
      );
      expect(runs.every((r) => r.finished_at !== null)).toBe(true);
    });

    it('retires an old key once nothing is left under it, and reports what cannot be read', async () => {
      await seed();
      // A value under a key this server never had (e.g. restored from another deployment's backup).
      const foreign = createContactCrypto(
        parseContactKeys({ current: 'k0', keys: { k0: randomBytes(32).toString('base64') } }),
      );
      const aad = { siteId: 'shop', subjectId: 's_zz', field: 'email' };
      await db.query(
        `INSERT INTO contacts (site_id, subject_id, kind, lookup_hash, value_enc, key_id, created_at, updated_at)
         VALUES ('shop', 's_zz', 'email', 'h', $1, 'k0', 0, 0)`,
        [foreign.encrypt('lost@example.com', aad)],
      );
      await expect(rotateContactKeys({ db, crypto: newCrypto, retire: 'k2' })).rejects.toBeInstanceOf(
        RetireCurrentKeyError,
      );
      const report = await rotateContactKeys({ db, crypto: newCrypto, retire: 'k1', batchSize: 7 });
      expect(report).toMatchObject({
        rewrapped: 23,
        unreadable: 1,
        retired: { kid: 'k1', remaining: 0, done: true },
      });
      expect(report.keys).toEqual([
        { kid: 'k0', count: 1, status: 'unknown' },
        { kid: 'k2', count: 23, status: 'current' },
      ]);
      // With k1 removed from the configuration and listed as retired, everything still reads.
      const afterRetire = createContactCrypto(
        parseContactKeys({ current: 'k2', keys: { k2 }, retired: ['k1'] }),
      );
      expect(await readAll(afterRetire)).toEqual(people.map((p) => p.value));
    });

    it('reports values still under a retired key instead of losing them', async () => {
      await seed();
      const early = createContactCrypto(parseContactKeys({ current: 'k2', keys: { k2 }, retired: ['k1'] }));
      const store = createContactStore({ db, crypto: early, pseudonymizer: hasher });
      await expect(store.get('shop', 's_01', 'email')).rejects.toBeInstanceOf(RetiredKeyError);
      const report = await rotateContactKeys({ db, crypto: early, retired: ['k1'], retire: 'k1' });
      expect(report).toMatchObject({
        rewrapped: 0,
        unreadable: 23,
        retired: { kid: 'k1', remaining: 23, done: false },
      });
      expect(report.keys).toContainEqual({ kid: 'k1', count: 23, status: 'retired' });
    });
  });
});
