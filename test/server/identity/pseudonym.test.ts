import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createPseudonymizer,
  loadPseudonymSecret,
  PseudonymSecretError,
} from '../../../src/server/crypto/pseudonym.ts';
import { PSEUDONYM_SECRET } from './fixtures.ts';

describe('pseudonymizer', () => {
  const p = createPseudonymizer(PSEUDONYM_SECRET);

  it('gives a stable subject id per site and user, unrelated across sites and secrets', () => {
    expect(p.subjectId('shop', 'u1')).toBe(p.subjectId('shop', 'u1'));
    expect(p.subjectId('shop', 'u1')).toMatch(/^s_[A-Za-z0-9_-]{43}$/);
    expect(p.subjectId('shop', 'u1')).not.toBe(p.subjectId('blog', 'u1'));
    expect(p.subjectId('shop', 'u1')).not.toBe(
      createPseudonymizer(`${PSEUDONYM_SECRET}x`).subjectId('shop', 'u1'),
    );
  });

  it('separates kinds, so a hash of one kind never matches another', () => {
    expect(p.hash('email', 'a@b.it')).toMatch(/^[0-9a-f]{64}$/);
    expect(p.hash('email', 'a@b.it')).not.toBe(p.hash('jti', 'a@b.it'));
    expect(p.hash('a', 'b\0c')).not.toBe(p.hash('a\0b', 'c'));
  });

  it('refuses a short secret', () => {
    expect(() => createPseudonymizer('short')).toThrow(PseudonymSecretError);
  });

  it('takes the secret from the environment, or creates a 0600 key file once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assenso-pseudonym-'));
    try {
      expect(
        await loadPseudonymSecret({ dataDir: dir, env: { ASSENSO_PSEUDONYM_SECRET: PSEUDONYM_SECRET } }),
      ).toBe(PSEUDONYM_SECRET);
      await expect(loadPseudonymSecret({ env: { ASSENSO_PSEUDONYM_SECRET: 'short' } })).rejects.toThrow(
        /too short/,
      );
      const [a, b] = await Promise.all([
        loadPseudonymSecret({ dataDir: dir }),
        loadPseudonymSecret({ dataDir: dir }),
      ]);
      expect(a).toBe(b);
      expect(await loadPseudonymSecret({ dataDir: dir })).toBe(a);
      const file = join(dir, 'secrets', 'pseudonym.key');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await readFile(file, 'utf8')).trim()).toBe(a);
      await expect(loadPseudonymSecret({})).rejects.toThrow(/ASSENSO_PSEUDONYM_SECRET/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
