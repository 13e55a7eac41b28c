import { createHash } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createKeyring,
  createMemoryKeyring,
  generateSigningKey,
  SIGN_HERE_MAX,
  KeyConfigError,
  kidOf,
  loadKeyring,
  retireKey,
  rotateKey,
  verifyWithPublicKey,
} from '../../../src/server/log/keys.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('keyring', () => {
  it('signs with Ed25519 and verifies; the kid is the first 16 hex of SHA-256 of the raw public key', () => {
    const keyring = createMemoryKeyring();
    const [key] = keyring.publicKeys();
    const raw = Buffer.from(key!.publicKey, 'base64url');
    expect(raw).toHaveLength(32);
    expect(key!.kid).toBe(createHash('sha256').update(raw).digest('hex').slice(0, 16));

    const { kid, sig } = keyring.sign(bytes('{"a":1}'));
    expect(kid).toBe(key!.kid);
    expect(Buffer.from(sig, 'base64url')).toHaveLength(64);
    expect(sig).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(keyring.verify(kid, bytes('{"a":1}'), sig)).toBe(true);
    expect(verifyWithPublicKey(key!.publicKey, bytes('{"a":1}'), sig)).toBe(true);
  });

  it('rejects a changed message, a changed signature, an unknown kid and garbage', () => {
    const keyring = createMemoryKeyring();
    const { kid, sig } = keyring.sign(bytes('hello'));
    expect(keyring.verify(kid, bytes('hellO'), sig)).toBe(false);
    const flipped = Buffer.from(sig, 'base64url');
    flipped[5]! ^= 1;
    expect(keyring.verify(kid, bytes('hello'), flipped.toString('base64url'))).toBe(false);
    expect(keyring.verify('0000000000000000', bytes('hello'), sig)).toBe(false);
    expect(keyring.verify(kid, bytes('hello'), 'not a signature')).toBe(false);
    expect(createMemoryKeyring().verify(kid, bytes('hello'), sig)).toBe(false);
  });

  it('signs with the newest non-retired key and still verifies with retired ones', () => {
    const old = generateSigningKey(1_000);
    const newer = generateSigningKey(2_000);
    const newest = { ...generateSigningKey(3_000), retiredAt: 3_500 };
    const oldSig = createKeyring([old]).sign(bytes('x'));
    const keyring = createKeyring([old, newest, newer]);
    expect(keyring.sign(bytes('x')).kid).toBe(newer.kid);
    expect(keyring.verify(old.kid, bytes('x'), oldSig.sig)).toBe(true);
    expect(keyring.publicKeys().map((k) => k.kid)).toEqual([newer.kid, newest.kid, old.kid]);
    expect(keyring.publicKeys()[1]!.retiredAt).toBe(3_500);
    expect(JSON.stringify(keyring.publicKeys())).not.toContain(newer.privateKey);
  });

  it('refuses a kid that does not match the public key and a private key of another pair', () => {
    const a = generateSigningKey(1);
    const b = generateSigningKey(1);
    expect(() => createKeyring([{ ...a, kid: b.kid }])).toThrow(KeyConfigError);
    expect(() => createKeyring([{ ...a, privateKey: b.privateKey }])).toThrow(/does not belong/);
  });

  it('a public-only keyring verifies but cannot sign', () => {
    const k = generateSigningKey(1);
    const sig = createKeyring([k]).sign(bytes('m')).sig;
    const { privateKey: _p, ...pub } = k;
    const verifier = createKeyring([pub]);
    expect(verifier.verify(k.kid, bytes('m'), sig)).toBe(true);
    expect(() => verifier.sign(bytes('m'))).toThrow(KeyConfigError);
    return expect(verifier.signMany(['m'])).rejects.toThrow(KeyConfigError);
  });

  it('signMany, here or (past SIGN_HERE_MAX) in a worker thread: the same signatures as sign(), in order, concurrent calls kept apart', async () => {
    const keyring = createKeyring([generateSigningKey(1)]);
    const texts = Array.from(
      { length: SIGN_HERE_MAX + 50 },
      (_, i) => `{"receipt":{"n":${i},"s":"perché ✓"},"receivedAt":${i}}`,
    );
    const [a, b, none, some] = await Promise.all([
      keyring.signMany(texts),
      keyring.signMany(['only one']),
      keyring.signMany([]),
      keyring.signMany(texts.slice(0, SIGN_HERE_MAX)),
    ]);
    expect(some.sigs).toEqual(a.sigs.slice(0, SIGN_HERE_MAX));
    expect(a.kid).toBe(keyring.publicKeys()[0]?.kid);
    expect(a.sigs).toEqual(texts.map((t) => keyring.sign(bytes(t)).sig));
    expect(b.sigs).toEqual([keyring.sign(bytes('only one')).sig]);
    expect(none.sigs).toEqual([]);
    for (const [i, t] of texts.entries())
      expect(keyring.verify(a.kid, bytes(t), a.sigs[i] as string)).toBe(true);
  });
});

describe('loadKeyring', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'assenso-keys-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a key file with mode 0600 on first start and reuses it afterwards', async () => {
    const first = await loadKeyring({ dataDir: dir, env: {}, now: () => 1_700_000_000_000 });
    const files = await readdir(join(dir, 'keys'));
    expect(files).toEqual([`${first.publicKeys()[0]!.kid}.json`]);
    const file = join(dir, 'keys', files[0]!);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'keys'))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(file, 'utf8'));
    expect(stored.createdAt).toBe(1_700_000_000_000);

    const again = await loadKeyring({ dataDir: dir, env: {} });
    expect(again.publicKeys()).toEqual(first.publicKeys());
    const { kid, sig } = first.sign(bytes('entry'));
    expect(again.verify(kid, bytes('entry'), sig)).toBe(true);
  });

  it('refuses a private key file readable by others, naming the file', async () => {
    await loadKeyring({ dataDir: dir, env: {} });
    const [name] = await readdir(join(dir, 'keys'));
    await chmod(join(dir, 'keys', name!), 0o644);
    await expect(loadKeyring({ dataDir: dir, env: {} })).rejects.toThrow(/chmod 600/);
  });

  it('rotation: a new key becomes current, the old one keeps verifying, retired keys stop signing', async () => {
    const first = await loadKeyring({ dataDir: dir, env: {}, now: () => 1_000 });
    const oldKid = first.publicKeys()[0]!.kid;
    const oldSig = first.sign(bytes('r1')).sig;

    const rotated = await rotateKey(dir, 2_000);
    const second = await loadKeyring({ dataDir: dir, env: {} });
    expect(second.sign(bytes('r2')).kid).toBe(rotated.kid);
    expect(second.verify(oldKid, bytes('r1'), oldSig)).toBe(true);

    const retired = await retireKey(dir, oldKid, 3_000);
    expect(retired).toMatchObject({ kid: oldKid, retiredAt: 3_000 });
    expect(retired).not.toHaveProperty('privateKey');
    const third = await loadKeyring({ dataDir: dir, env: {} });
    expect(third.publicKeys().find((k) => k.kid === oldKid)?.retiredAt).toBe(3_000);
    expect(third.verify(oldKid, bytes('r1'), oldSig)).toBe(true);

    // Retiring the last signing key makes the next start create a fresh one.
    await retireKey(dir, rotated.kid, 4_000);
    const fourth = await loadKeyring({ dataDir: dir, env: {}, now: () => 5_000 });
    const current = fourth.sign(bytes('r3')).kid;
    expect([oldKid, rotated.kid]).not.toContain(current);
    expect(fourth.publicKeys()).toHaveLength(3);
  });

  it('takes keys from ASSENSO_SIGNING_KEYS (one object or an array) and ignores the files then', async () => {
    await loadKeyring({ dataDir: dir, env: {} });
    const k = generateSigningKey(10);
    const single = await loadKeyring({ dataDir: dir, env: { ASSENSO_SIGNING_KEYS: JSON.stringify(k) } });
    expect(single.publicKeys().map((x) => x.kid)).toEqual([k.kid]);
    const other = generateSigningKey(20);
    const list = await loadKeyring({ env: { ASSENSO_SIGNING_KEYS: JSON.stringify([k, other]) } });
    expect(list.sign(bytes('a')).kid).toBe(other.kid);
    expect(kidOf(list.publicKeys()[0]!.publicKey)).toBe(other.kid);
  });

  it('names what is wrong in ASSENSO_SIGNING_KEYS', async () => {
    const load = (value: string) => loadKeyring({ env: { ASSENSO_SIGNING_KEYS: value } });
    await expect(load('{nope')).rejects.toThrow(/not valid JSON/);
    await expect(load(JSON.stringify([{ publicKey: 'short', createdAt: 1 }]))).rejects.toThrow(
      /ASSENSO_SIGNING_KEYS\[0\]: publicKey/,
    );
    const { privateKey: _p, ...pub } = generateSigningKey(1);
    await expect(load(JSON.stringify([pub]))).rejects.toThrow(/no usable signing key/);
  });

  it('refuses a malformed key file', async () => {
    await loadKeyring({ dataDir: dir, env: {} });
    await writeFile(join(dir, 'keys', 'broken.json'), '{', { mode: 0o600 });
    await expect(loadKeyring({ dataDir: dir, env: {} })).rejects.toThrow(/broken\.json is not valid JSON/);
  });

  it('without env and data directory, keeps one key in memory', async () => {
    const keyring = await loadKeyring({});
    expect(keyring.publicKeys()).toHaveLength(1);
  });
});
