import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../../src/server/db/db.ts';
import {
  ContactDecryptError,
  createContactCrypto,
  parseContactKeys,
} from '../../../src/server/protection/contact-crypto.ts';
import {
  contactLookupHash,
  createContactStore,
  maskContact,
  normaliseContact,
} from '../../../src/server/protection/contact-store.ts';
import { databases } from '../../helpers/databases.ts';

describe('contact masking and normalising', () => {
  it('masks an address as m•••@domain and a phone but its last two digits', () => {
    expect(maskContact('email', 'mario.rossi@example.com')).toBe('m•••@example.com');
    expect(maskContact('email', 'not-an-address')).toBe('•••');
    expect(maskContact('phone', '+39 333 123 4567')).toBe('••••••••••67');
    expect(normaliseContact('email', ' Ada@Example.COM ')).toBe('ada@example.com');
    expect(normaliseContact('phone', '+39 (333) 123-4567')).toBe('+393331234567');
  });
});

describe.each(databases)('contact store on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    const pseudonymizer = createPseudonymizer(randomBytes(32));
    const crypto = createContactCrypto(
      parseContactKeys({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
    );
    beforeEach(async () => {
      db = await d.create();
    });
    afterEach(async () => db.drop());

    it('stores encrypted, finds by keyed hash per site, replaces, lists and removes', async () => {
      const store = createContactStore({ db, crypto, pseudonymizer, now: () => 1000 });
      await store.put({ siteId: 'shop', subjectId: 's_ada', kind: 'email', value: ' Ada@Example.com ' });
      await store.put({ siteId: 'blog', subjectId: 's_ada2', kind: 'email', value: 'ada@example.com' });
      expect(await store.get('shop', 's_ada', 'email')).toBe('Ada@Example.com');
      expect(await store.findSubject('shop', 'email', 'ADA@example.com')).toBe('s_ada');
      expect(await store.findSubject('blog', 'email', 'ada@example.com')).toBe('s_ada2');
      expect(await store.findSubject('shop', 'email', 'bob@example.com')).toBeNull();

      const { rows } = await db.query<{ lookup_hash: string; value_enc: string; key_id: string }>(
        'SELECT lookup_hash, value_enc, key_id FROM contacts ORDER BY site_id',
      );
      expect(rows[0]?.lookup_hash).not.toBe(rows[1]?.lookup_hash); // unrelated across sites
      expect(rows[1]?.lookup_hash).toBe(contactLookupHash(pseudonymizer, 'shop', 'email', 'ada@example.com'));
      expect(JSON.stringify(rows).toLowerCase()).not.toContain('ada@');
      expect(rows.every((r) => r.key_id === 'k1' && r.value_enc.startsWith('v1.k1.'))).toBe(true);

      await store.put({ siteId: 'shop', subjectId: 's_ada', kind: 'email', value: 'ada@new.example' });
      expect(await store.get('shop', 's_ada', 'email')).toBe('ada@new.example');
      expect(await store.findSubject('shop', 'email', 'ada@example.com')).toBeNull();
      await store.put({ siteId: 'shop', subjectId: 's_ada', kind: 'phone', value: '+39 333 1234567' });
      expect((await store.listForSubject('shop', 's_ada')).map((r) => [r.kind, r.value])).toEqual([
        ['email', 'ada@new.example'],
        ['phone', '+39 333 1234567'],
      ]);
      expect(await store.remove('shop', 's_ada', 'phone')).toBe(1);
      expect(await store.remove('shop', 's_ada')).toBe(1);
      expect(await store.get('shop', 's_ada', 'email')).toBeNull();
    });

    it('catches a value swapped between rows in SQL', async () => {
      const store = createContactStore({ db, crypto, pseudonymizer });
      await store.put({ siteId: 'shop', subjectId: 's_ada', kind: 'email', value: 'ada@example.com' });
      await store.put({ siteId: 'shop', subjectId: 's_bob', kind: 'email', value: 'bob@example.com' });
      await db.query(
        "UPDATE contacts SET value_enc = (SELECT value_enc FROM contacts WHERE subject_id = 's_ada') WHERE subject_id = 's_bob'",
      );
      await expect(store.get('shop', 's_bob', 'email')).rejects.toBeInstanceOf(ContactDecryptError);
      expect((await store.listForSubject('shop', 's_bob'))[0]).toMatchObject({
        value: null,
        error: 'ContactDecryptError',
      });
    });
  });
});
