import { describe, expect, it } from 'vitest';
import { signIdentity } from '../../../src/server/identity-token.ts';
import { IdentityTokenError, verifyIdentityToken } from '../../../src/server/identity/token.ts';
import { claims, craftToken, KID, SECRET, SITE, T0 } from './fixtures.ts';

const secrets = { [KID]: SECRET };
const header = { alg: 'HS256', typ: 'JWT', kid: KID };

async function reason(token: string, site = SITE, now = T0): Promise<string> {
  try {
    await verifyIdentityToken(token, site, secrets, now);
    return 'accepted';
  } catch (err) {
    expect(err).toBeInstanceOf(IdentityTokenError);
    return (err as IdentityTokenError).reason;
  }
}

describe('identity token verification', () => {
  it('accepts a token made by signIdentity and returns its claims', async () => {
    const token = signIdentity({ secret: SECRET, kid: KID, siteId: SITE, userId: 'u-1', now: () => T0 });
    const c = await verifyIdentityToken(token, SITE, secrets, T0 + 1000);
    expect(c.sub).toBe('u-1');
    expect(c.kid).toBe(KID);
    expect(c.exp).toBe(Math.floor(T0 / 1000) + 300);
    expect(c.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('picks the secret by kid, so secrets rotate', async () => {
    const two = { old: SECRET, new: `${SECRET}-new` };
    const token = signIdentity({ secret: two.new, kid: 'new', siteId: SITE, userId: 'u', now: () => T0 });
    await expect(verifyIdentityToken(token, SITE, two, T0)).resolves.toMatchObject({ kid: 'new' });
  });

  it('refuses alg none, even unsigned', async () => {
    expect(await reason(craftToken({ alg: 'none', kid: KID }, claims(T0), SECRET, ''))).toBe(
      'token-algorithm',
    );
  });

  it('refuses any algorithm but HS256', async () => {
    expect(await reason(craftToken({ ...header, alg: 'HS512' }, claims(T0)))).toBe('token-algorithm');
    expect(await reason(craftToken({ ...header, alg: 'RS256' }, claims(T0)))).toBe('token-algorithm');
  });

  it('refuses an unknown or missing kid', async () => {
    expect(await reason(craftToken({ ...header, kid: 'other' }, claims(T0)))).toBe('token-unknown-key');
    expect(await reason(craftToken({ alg: 'HS256' }, claims(T0)))).toBe('token-unknown-key');
    expect(await reason(craftToken({ ...header, kid: '__proto__' }, claims(T0)))).toBe('token-unknown-key');
  });

  it('refuses a site without identity secrets', async () => {
    await expect(
      verifyIdentityToken(craftToken(header, claims(T0)), SITE, undefined, T0),
    ).rejects.toMatchObject({
      reason: 'token-unknown-key',
    });
  });

  it('refuses a forged signature', async () => {
    expect(await reason(craftToken(header, claims(T0), `${SECRET}x`))).toBe('token-bad-signature');
    const good = craftToken(header, claims(T0));
    const tampered = craftToken(header, claims(T0, { sub: 'admin' }), SECRET, good.split('.')[2]);
    expect(await reason(tampered)).toBe('token-bad-signature');
  });

  it('refuses a token for another site', async () => {
    expect(await reason(craftToken(header, claims(T0, { aud: 'other-site' })))).toBe('token-wrong-audience');
    expect(await reason(craftToken(header, claims(T0)), 'other-site')).toBe('token-wrong-audience');
  });

  it('refuses an expired token (beyond 60 s of clock skew)', async () => {
    const token = craftToken(header, claims(T0));
    expect(await reason(token, SITE, T0 + 300_000 + 30_000)).toBe('accepted');
    expect(await reason(token, SITE, T0 + 300_000 + 61_000)).toBe('token-expired');
  });

  it('refuses a token living longer than 10 minutes', async () => {
    const iat = Math.floor(T0 / 1000);
    expect(await reason(craftToken(header, claims(T0, { exp: iat + 601 })))).toBe('token-lifetime');
    expect(await reason(craftToken(header, claims(T0, { exp: iat + 3600, iat: iat + 3000 })))).toBe(
      'token-lifetime',
    );
    expect(await reason(craftToken(header, claims(T0, { exp: iat + 600 })))).toBe('accepted');
  });

  it('refuses missing claims and garbage', async () => {
    expect(await reason(craftToken(header, claims(T0, { jti: undefined })))).toBe('token-claims');
    expect(await reason(craftToken(header, claims(T0, { sub: '' })))).toBe('token-claims');
    expect(await reason(craftToken(header, claims(T0, { iat: undefined })))).toBe('token-claims');
    expect(await reason('not-a-token')).toBe('token-malformed');
    expect(await reason('a.b.c')).toBe('token-malformed');
  });

  it('signIdentity refuses lifetimes over 10 minutes and short secrets', () => {
    expect(() =>
      signIdentity({ secret: SECRET, kid: KID, siteId: SITE, userId: 'u', ttlSeconds: 601 }),
    ).toThrow(RangeError);
    expect(() => signIdentity({ secret: 'short', kid: KID, siteId: SITE, userId: 'u' })).toThrow(RangeError);
  });
});
