import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ContactDecryptError,
  ContactKeyConfigError,
  createContactCrypto,
  loadContactKeys,
  parseContactKeys,
  RetiredKeyError,
  UnknownKeyError,
} from '../../../src/server/protection/contact-crypto.ts';

const key = () => randomBytes(32).toString('base64');
const row = { siteId: 'shop', subjectId: 's_ada', field: 'email' };

describe('contact envelope encryption', () => {
  const k1 = key();
  const k2 = key();
  const v1 = createContactCrypto(parseContactKeys({ current: 'k1', keys: { k1 } }));
  const both = createContactCrypto(parseContactKeys({ current: 'k2', keys: { k1, k2 } }));

  it('round-trips, with a fresh data key and IV per value, the kid visible in the stored form', () => {
    const a = v1.encrypt('ada@example.com', row);
    const b = v1.encrypt('ada@example.com', row);
    expect(a).toMatch(/^v1\.k1\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(a).not.toContain('ada');
    expect(v1.decrypt(a, row)).toBe('ada@example.com');
    expect(v1.keyIdOf(a)).toBe('k1');
    expect(v1.decrypt(v1.encrypt('', row), row)).toBe('');
    expect(v1.decrypt(v1.encrypt('zoë@exämple.it', row), row)).toBe('zoë@exämple.it');
  });

  it('binds the ciphertext to its row and its key id: a value moved elsewhere does not decrypt', () => {
    const a = v1.encrypt('ada@example.com', row);
    for (const other of [
      { ...row, siteId: 'blog' },
      { ...row, subjectId: 's_bob' },
      { ...row, field: 'phone' },
    ]) {
      expect(() => v1.decrypt(a, other)).toThrow(ContactDecryptError);
    }
    // Relabelling the kid (k1 → k2) with both keys present still fails: the kid is in the AAD of both layers.
    expect(() => both.decrypt(a.replace('v1.k1.', 'v1.k2.'), row)).toThrow(ContactDecryptError);
  });

  it('detects any flipped byte and refuses malformed values', () => {
    const a = v1.encrypt('ada@example.com', row);
    const parts = a.split('.');
    for (const i of [2, 3, 4, 5]) {
      const p = [...parts];
      const bytes = Buffer.from(p[i]!, 'base64url');
      bytes[0]! ^= 1;
      p[i] = bytes.toString('base64url');
      expect(() => v1.decrypt(p.join('.'), row), `part ${i}`).toThrow(ContactDecryptError);
    }
    expect(() => v1.decrypt('ada@example.com', row)).toThrow(ContactDecryptError);
    expect(() => v1.decrypt('v2.k1.a.b.c.d', row)).toThrow(ContactDecryptError);
  });

  it('decrypts under older keys, encrypts under the current one, and says what needs rotation', () => {
    const old = v1.encrypt('ada@example.com', row);
    expect(both.decrypt(old, row)).toBe('ada@example.com');
    expect(both.needsRotation(old)).toBe(true);
    const fresh = both.encrypt('ada@example.com', row);
    expect(both.keyIdOf(fresh)).toBe('k2');
    expect(both.needsRotation(fresh)).toBe(false);
  });

  it('reports a retired or unknown key by name instead of failing silently', () => {
    const old = v1.encrypt('ada@example.com', row);
    const retired = createContactCrypto(parseContactKeys({ current: 'k2', keys: { k2 }, retired: ['k1'] }));
    expect(() => retired.decrypt(old, row)).toThrow(RetiredKeyError);
    try {
      retired.decrypt(old, row);
    } catch (err) {
      expect((err as RetiredKeyError).kid).toBe('k1');
    }
    const stranger = createContactCrypto(parseContactKeys({ current: 'k2', keys: { k2 } }));
    expect(() => stranger.decrypt(old, row)).toThrow(UnknownKeyError);
  });

  it('refuses unusable key configurations, naming the setting', () => {
    const bad: unknown[] = [
      '{',
      { keys: { k1: key() } },
      { current: 'k1', keys: {} },
      { current: 'k1', keys: { k1: Buffer.alloc(16).toString('base64') } },
      { current: 'k.1', keys: { 'k.1': key() } },
      { current: 'k1', keys: { k1: key() }, retired: ['k1'] },
      { current: 'k1', keys: { k1: key() }, retired: 'k0' },
    ];
    for (const b of bad) expect(() => parseContactKeys(b), JSON.stringify(b)).toThrow(ContactKeyConfigError);
  });

  it('loads keys from the environment, a named file, or creates a 0600 file in the data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assenso-kek-'));
    try {
      const json = JSON.stringify({ current: 'a', keys: { a: key() } });
      expect((await loadContactKeys({ env: { ASSENSO_CONTACT_KEYS: json } }))?.current).toBe('a');
      const file = join(dir, 'keys.json');
      await writeFile(file, JSON.stringify({ current: 'b', keys: { b: key() } }));
      expect((await loadContactKeys({ env: { ASSENSO_CONTACT_KEYS_FILE: file } }))?.current).toBe('b');
      await expect(
        loadContactKeys({ env: { ASSENSO_CONTACT_KEYS_FILE: join(dir, 'missing.json') } }),
      ).rejects.toThrow(ContactKeyConfigError);
      expect(await loadContactKeys({ env: {} })).toBeNull();
      const created = await loadContactKeys({ env: {}, dataDir: dir });
      const again = await loadContactKeys({ env: {}, dataDir: dir });
      expect(created?.current).toMatch(/^k\d{8}$/);
      expect(again).toEqual(created);
      const generated = join(dir, 'secrets', 'contact-keys.json');
      expect((await stat(generated)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(generated, 'utf8')).current).toBe(created?.current);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
