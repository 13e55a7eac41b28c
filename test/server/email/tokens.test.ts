import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateLinkKey,
  LINK_KEYS_ENV,
  LinkKeyConfigError,
  loadLinkKeys,
  readLinkKeys,
  rotateLinkKeys,
  staticLinkKeys,
  writeLinkKeys,
} from '../../../src/server/email/link-keys.ts';
import { listUnsubscribeHeaders } from '../../../src/server/email/list-unsubscribe.ts';
import {
  createLinkTokens,
  TokenExpired,
  TokenInvalid,
  TokenKeyRevoked,
  TokenWrongAction,
  TokenWrongSite,
} from '../../../src/server/email/tokens.ts';

const T0 = Date.UTC(2026, 0, 10);
const DAY = 86_400_000;

function setup() {
  let now = T0;
  const stored = [generateLinkKey(T0)];
  let keys = staticLinkKeys(stored, () => now);
  const tokens = createLinkTokens({
    keys: { current: () => keys.current(), get: (k) => keys.get(k) },
    now: () => now,
  });
  return {
    tokens,
    advance: (ms: number) => {
      now += ms;
    },
    replaceKeys: (next: ReturnType<typeof rotateLinkKeys>) => {
      keys = staticLinkKeys(next, () => now);
    },
    stored,
    now: () => now,
  };
}

describe('link tokens', () => {
  it('round-trips the claims and is URL-safe and compact', () => {
    const { tokens } = setup();
    const t = tokens.issue({
      siteId: 'shop',
      subjectId: 's'.repeat(43),
      action: 'preferences',
      ttlMs: 60 * DAY,
      language: 'it',
    });
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(t.length).toBeLessThan(220);
    expect(tokens.verify(t, { action: 'preferences', siteId: 'shop' })).toMatchObject({
      siteId: 'shop',
      subjectId: 's'.repeat(43),
      action: 'preferences',
      language: 'it',
      expiresAt: T0 + 60 * DAY,
    });
  });

  it('rejects a tampered payload or signature as TokenInvalid', () => {
    const { tokens } = setup();
    const t = tokens.issue({ siteId: 'shop', subjectId: 'alice', action: 'preferences', ttlMs: DAY });
    const [payload, sig] = t.split('.') as [string, string];
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = `${Buffer.from(JSON.stringify({ ...body, u: 'mallory' })).toString('base64url')}.${sig}`;
    expect(() => tokens.verify(forged, { action: 'preferences' })).toThrow(TokenInvalid);
    const flipped = `${payload}.${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BA' : 'AA'}`;
    expect(() => tokens.verify(flipped, { action: 'preferences' })).toThrow(TokenInvalid);
    expect(() => tokens.verify('nonsense', { action: 'preferences' })).toThrow(TokenInvalid);
    expect(() => tokens.verify(`${'x'.repeat(2000)}.${sig}`, { action: 'preferences' })).toThrow(
      TokenInvalid,
    );
  });

  it('expires, and checks action and site', () => {
    const { tokens, advance } = setup();
    const t = tokens.issue({ siteId: 'shop', subjectId: 'alice', action: 'unsubscribe', ttlMs: DAY });
    expect(() => tokens.verify(t, { action: 'preferences' })).toThrow(TokenWrongAction);
    expect(() => tokens.verify(t, { action: 'unsubscribe', siteId: 'blog' })).toThrow(TokenWrongSite);
    advance(DAY);
    expect(() => tokens.verify(t, { action: 'unsubscribe', siteId: 'shop' })).toThrow(TokenExpired);
  });

  it('rotation keeps old links valid until the old key is retired, which revokes them', () => {
    const { tokens, replaceKeys, stored, now } = setup();
    const old = tokens.issue({ siteId: 'shop', subjectId: 'alice', action: 'preferences', ttlMs: DAY });
    const rotated = rotateLinkKeys(stored, now(), false);
    replaceKeys(rotated);
    const fresh = tokens.issue({ siteId: 'shop', subjectId: 'alice', action: 'preferences', ttlMs: DAY });
    expect(fresh.split('.')[0]).not.toBe(old.split('.')[0]);
    expect(tokens.verify(old, { action: 'preferences' }).subjectId).toBe('alice');
    replaceKeys(rotateLinkKeys(rotated, now(), true));
    expect(() => tokens.verify(old, { action: 'preferences' })).toThrow(TokenKeyRevoked);
    expect(() => tokens.verify(fresh, { action: 'preferences' })).toThrow(TokenKeyRevoked);
  });
});

describe('link keys on disk', () => {
  it('creates a 0600 key file on first start, picks up a rotation, and prefers the environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'assenso-linkkeys-'));
    try {
      const keys = await loadLinkKeys({ env: {}, dataDir: dir });
      expect((await stat(join(dir, 'link-keys.json'))).mode & 0o777).toBe(0o600);
      const first = keys.current().kid;
      await writeLinkKeys(dir, rotateLinkKeys(await readLinkKeys(dir), Date.now(), true));
      await keys.refresh();
      expect(keys.current().kid).not.toBe(first);
      expect(keys.get(first)?.retiredAt).toBeTypeOf('number');
      expect(await readFile(join(dir, 'link-keys.json'), 'utf8')).toContain(first);
      const env = { [LINK_KEYS_ENV]: JSON.stringify([generateLinkKey(1)]) };
      expect((await loadLinkKeys({ env, dataDir: dir })).current().kid).toBe(
        JSON.parse(env[LINK_KEYS_ENV]!)[0].kid,
      );
      await expect(
        loadLinkKeys({
          env: { [LINK_KEYS_ENV]: '[{"kid":"a","secret":"short","createdAt":1}]' },
          dataDir: dir,
        }),
      ).rejects.toThrow(LinkKeyConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('listUnsubscribeHeaders', () => {
  it('builds RFC 8058 headers', () => {
    expect(
      listUnsubscribeHeaders({ unsubscribeUrl: 'https://c.example/u/abc', mailto: 'unsub@example.com' }),
    ).toEqual({
      'List-Unsubscribe': '<https://c.example/u/abc>, <mailto:unsub@example.com>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(() => listUnsubscribeHeaders({ unsubscribeUrl: 'http://example.com/u/abc' })).toThrow(/https/);
  });
});
