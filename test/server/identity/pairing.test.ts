import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { signIdentity } from '../../../src/server/identity-token.ts';
import type { IdentityRateLimited } from '../../../src/server/identity/errors.ts';
import { normalizePairingCode, newPairingCode } from '../../../src/server/identity/pairing-code.ts';
import {
  createIdentityService,
  type IdentityService,
  PAIRING_TTL_MS,
} from '../../../src/server/identity/service.ts';
import { databases } from '../../helpers/databases.ts';
import { deviceId, KID, PSEUDONYM_SECRET, receipt, SECRET, SITE, storeReceipt, T0 } from './fixtures.ts';

describe('pairing codes', () => {
  it('are 8 symbols of an unambiguous alphabet, forgiving when typed', () => {
    const code = newPairingCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(normalizePairingCode(' ab1o-il0z ')).toBe('AB10-110Z'.replace('-', ''));
    expect(normalizePairingCode('ABCD-EFG')).toBeUndefined();
    expect(normalizePairingCode('ABCD-EFGU')).toBeUndefined();
  });
});

describe.each(databases)('pairing on $name', (d) => {
  describe.skipIf(!d.available)('pairing', () => {
    let db: Db & { drop(): Promise<void> };
    let clock: number;
    let identity: IdentityService;
    let ip: string;
    const p = createPseudonymizer(PSEUDONYM_SECRET);

    beforeAll(async () => {
      db = await d.create();
    }, 180_000);
    afterAll(() => db.drop());
    beforeEach(() => {
      clock = T0;
      // Each test comes from its own address, so the per-IP windows of one test do not touch another's.
      ip = `10.0.${Math.floor(Math.random() * 255)}.${Math.floor(Math.random() * 255)}`;
      identity = createIdentityService({
        db,
        now: () => clock,
        pseudonymizer: p,
        identitySecrets: () => ({ [KID]: SECRET }),
        limits: { claimsGlobal: 10_000 },
      });
    });

    const subjectOf = async (dev: string) =>
      (
        await db.query<{ subject_id: string }>('SELECT subject_id FROM identity_links WHERE device_id = $1', [
          dev,
        ])
      ).rows[0]?.subject_id;

    it('links two unlinked devices to one new pseudonymous subject; their consent is shared', async () => {
      const [pc, phone] = [deviceId(), deviceId()];
      await storeReceipt(db, receipt({ deviceId: pc, categories: { analytics: true } }), T0 - 10);
      const { code, expiresAt } = await identity.createPairing({ siteId: SITE, deviceId: pc, ip });
      expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
      expect(expiresAt).toBe(T0 + PAIRING_TTL_MS);
      const { subjectId } = await identity.claimPairing({
        siteId: SITE,
        deviceId: phone,
        code: code.toLowerCase(),
        ip,
      });
      expect(subjectId).toMatch(/^s_[A-Za-z0-9_-]{43}$/);
      expect(await subjectOf(pc)).toBe(subjectId);
      expect(await subjectOf(phone)).toBe(subjectId);
      expect((await identity.consentFor(SITE, phone))?.decision?.categories).toEqual({ analytics: true });
      // The code is stored only as a keyed hash.
      const { rows } = await db.query('SELECT * FROM pairing_codes WHERE device_id = $1', [pc]);
      expect(JSON.stringify(rows)).not.toContain(code.replace('-', ''));
    });

    it('the claimer joins the issuer’s signed-in subject', async () => {
      const [pc, phone] = [deviceId(), deviceId()];
      const token = signIdentity({ secret: SECRET, kid: KID, siteId: SITE, userId: 'kim', now: () => clock });
      const { subjectId } = await identity.identify({ siteId: SITE, deviceId: pc, token });
      const { code } = await identity.createPairing({ siteId: SITE, deviceId: pc, ip });
      await identity.claimPairing({ siteId: SITE, deviceId: phone, code, ip });
      expect(await subjectOf(phone)).toBe(subjectId);
      expect(await subjectOf(pc)).toBe(subjectId);
    });

    it('a code is used once, expires after 5 minutes, and never pairs a device with itself', async () => {
      const [pc, a, b] = [deviceId(), deviceId(), deviceId()];
      const { code } = await identity.createPairing({ siteId: SITE, deviceId: pc, ip });
      await expect(identity.claimPairing({ siteId: SITE, deviceId: pc, code, ip })).rejects.toMatchObject({
        name: 'PairingCodeError',
      });
      await identity.claimPairing({ siteId: SITE, deviceId: a, code, ip });
      await expect(identity.claimPairing({ siteId: SITE, deviceId: b, code, ip })).rejects.toMatchObject({
        name: 'PairingCodeError',
      });
      const late = await identity.createPairing({ siteId: SITE, deviceId: pc, ip });
      clock += PAIRING_TTL_MS + 1;
      await expect(
        identity.claimPairing({ siteId: SITE, deviceId: b, code: late.code, ip }),
      ).rejects.toMatchObject({
        name: 'PairingCodeError',
      });
      expect(await subjectOf(b)).toBeUndefined();
      await expect(
        identity.claimPairing({ siteId: 'other', deviceId: b, code: late.code, ip }),
      ).rejects.toThrow();
    });

    it('two devices claiming one code at once: exactly one wins', async () => {
      const pc = deviceId();
      const claimers = Array.from({ length: 5 }, () => deviceId());
      const { code } = await identity.createPairing({ siteId: SITE, deviceId: pc, ip });
      const results = await Promise.allSettled(
        claimers.map((dev) => identity.claimPairing({ siteId: SITE, deviceId: dev, code, ip })),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const linked = await Promise.all(claimers.map(subjectOf));
      expect(linked.filter(Boolean)).toHaveLength(1);
    });

    it('guessing is rate-limited per site and client address, with Retry-After, and audited', async () => {
      const dev = deviceId();
      clock = T0 + 60_000; // the windows are aligned to T0: a minute into one
      const { code } = await identity.createPairing({ siteId: SITE, deviceId: deviceId(), ip: '192.0.2.1' });
      const errors: Error[] = [];
      for (let i = 0; i < 11; i++) {
        errors.push(
          await identity
            .claimPairing({ siteId: SITE, deviceId: dev, code: `AAAA-AAA${i % 10}`, ip })
            .catch((e) => e),
        );
      }
      expect(errors.slice(0, 10).map((e) => e.name)).toEqual(Array(10).fill('PairingCodeError'));
      expect(errors[10]?.name).toBe('IdentityRateLimited');
      expect((errors[10] as IdentityRateLimited).retryAfterSeconds).toBeGreaterThan(0);
      // A real code from that address is refused too until the window ends.
      await expect(identity.claimPairing({ siteId: SITE, deviceId: dev, code, ip })).rejects.toMatchObject({
        name: 'IdentityRateLimited',
      });
      clock = T0 + 5 * 60_000; // next window, code still live
      await identity.claimPairing({ siteId: SITE, deviceId: dev, code, ip });
      const { rows } = await db.query<{ reason: string }>(
        `SELECT reason FROM identity_audit WHERE device_id = $1 AND outcome = 'refused'`,
        [dev],
      );
      expect(rows.map((r) => r.reason)).toEqual([
        ...Array(10).fill('pairing-code-invalid'),
        'rate-limited',
        'rate-limited',
      ]);
    });

    it('the global limit holds across addresses', async () => {
      const strict = createIdentityService({
        db,
        now: () => clock + 3_600_000 * 24,
        pseudonymizer: p,
        identitySecrets: () => undefined,
        limits: { claimsGlobal: 3 },
      });
      const dev = deviceId();
      const names = [];
      for (let i = 0; i < 4; i++) {
        const err = await strict
          .claimPairing({ siteId: SITE, deviceId: dev, code: 'ZZZZ-ZZZZ', ip: `198.51.100.${i}` })
          .catch((e) => e);
        names.push(err.name);
      }
      expect(names).toEqual([
        'PairingCodeError',
        'PairingCodeError',
        'PairingCodeError',
        'IdentityRateLimited',
      ]);
    });
  });
});
