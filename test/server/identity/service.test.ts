import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { signIdentity } from '../../../src/server/identity-token.ts';
import { IdentityTokenError } from '../../../src/server/identity/errors.ts';
import { createIdentityService, type IdentityService } from '../../../src/server/identity/service.ts';
import { databases } from '../../helpers/databases.ts';
import {
  claims,
  craftToken,
  deviceId,
  KID,
  PSEUDONYM_SECRET,
  receipt,
  SECRET,
  SITE,
  storeReceipt,
  T0,
} from './fixtures.ts';

const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

describe.each(databases)('identity service on $name', (d) => {
  describe.skipIf(!d.available)('linking', () => {
    let db: Db & { drop(): Promise<void> };
    let clock: number;
    let identity: IdentityService;
    const p = createPseudonymizer(PSEUDONYM_SECRET);
    const token = (userId: string, site = SITE) =>
      signIdentity({ secret: SECRET, kid: KID, siteId: site, userId, now: () => clock });

    // One database per driver (creating one costs seconds); every test works on its own fresh devices and users.
    beforeAll(async () => {
      db = await d.create();
    }, 180_000);
    afterAll(() => db.drop());
    beforeEach(() => {
      clock = T0;
      identity = createIdentityService({
        db,
        now: () => clock,
        pseudonymizer: p,
        identitySecrets: (site) => (site === SITE ? { [KID]: SECRET } : undefined),
      });
    });

    const linkOf = async (device: string) =>
      (
        await db.query<{ subject_id: string }>(
          'SELECT subject_id FROM identity_links WHERE site_id = $1 AND device_id = $2',
          [SITE, device],
        )
      ).rows.map((r) => r.subject_id);
    const audits = async (...devices: string[]) =>
      (
        await db.query<{ action: string; outcome: string; reason: string | null; device_id: string | null }>(
          'SELECT action, outcome, reason, device_id FROM identity_audit WHERE device_id = ANY($1) ORDER BY id',
          [devices],
        )
      ).rows;

    it('links a device to the pseudonym of site + user id, never storing the raw id', async () => {
      const dev = deviceId();
      const res = await identity.identify({
        siteId: SITE,
        deviceId: dev,
        token: token('alice@example.com'),
        userAgent: CHROME_ANDROID,
      });
      expect(res).toEqual({ subjectId: p.subjectId(SITE, 'alice@example.com'), moved: false, attached: 0 });
      expect(await linkOf(dev)).toEqual([res.subjectId]);
      const { rows } = await db.query<{ browser: string }>(
        'SELECT browser FROM identity_links WHERE device_id = $1',
        [dev],
      );
      expect(rows[0]?.browser).toBe('Chrome · Android');
      for (const table of ['identity_links', 'identity_audit', 'identity_jti', 'receipts']) {
        const dump = JSON.stringify((await db.query(`SELECT * FROM ${table}`)).rows);
        expect(dump).not.toContain('alice');
      }
      expect(await audits(dev)).toEqual([
        { action: 'identify', outcome: 'ok', reason: null, device_id: dev },
      ]);
    });

    it.each([
      ['token-algorithm', () => craftToken({ alg: 'none', kid: KID }, claims(T0), SECRET, '')],
      ['token-unknown-key', () => craftToken({ alg: 'HS256', kid: 'nope' }, claims(T0))],
      ['token-bad-signature', () => craftToken({ alg: 'HS256', kid: KID }, claims(T0), `${SECRET}!`)],
      [
        'token-wrong-audience',
        () => craftToken({ alg: 'HS256', kid: KID }, claims(T0, { aud: 'elsewhere' })),
      ],
      ['token-expired', () => craftToken({ alg: 'HS256', kid: KID }, claims(T0 - 3_600_000))],
      [
        'token-lifetime',
        () => craftToken({ alg: 'HS256', kid: KID }, claims(T0, { exp: T0 / 1000 + 86_400 })),
      ],
    ])('refuses %s: links nothing, audits the reason', async (reason, make) => {
      const dev = deviceId();
      await expect(identity.identify({ siteId: SITE, deviceId: dev, token: make() })).rejects.toMatchObject({
        reason,
      });
      expect(await linkOf(dev)).toEqual([]);
      expect(await audits(dev)).toEqual([{ action: 'identify', outcome: 'refused', reason, device_id: dev }]);
    });

    it('accepts a token once: a replayed jti is refused, also for another device', async () => {
      const t = token('bob');
      const first = deviceId();
      const second = deviceId();
      await identity.identify({ siteId: SITE, deviceId: first, token: t });
      const err = await identity.identify({ siteId: SITE, deviceId: second, token: t }).catch((e) => e);
      expect(err).toBeInstanceOf(IdentityTokenError);
      expect(err.reason).toBe('token-replayed');
      expect(await linkOf(second)).toEqual([]);
      expect((await audits(first, second)).map((a) => a.reason)).toEqual([null, 'token-replayed']);
    });

    it('links many devices to one subject and moves a device to another subject atomically', async () => {
      const [a, b] = [deviceId(), deviceId()];
      await identity.identify({ siteId: SITE, deviceId: a, token: token('carol') });
      await identity.identify({ siteId: SITE, deviceId: b, token: token('carol') });
      expect(await linkOf(a)).toEqual(await linkOf(b));
      const moved = await identity.identify({ siteId: SITE, deviceId: b, token: token('dave') });
      expect(moved.moved).toBe(true);
      expect(await linkOf(b)).toEqual([p.subjectId(SITE, 'dave')]);
      expect(await linkOf(a)).toEqual([p.subjectId(SITE, 'carol')]);
    });

    it('attaches the earlier receipts of the device to the subject, and new ones as they arrive', async () => {
      const dev = deviceId();
      const before = receipt({ deviceId: dev });
      await storeReceipt(db, before, T0 - 1000);
      const res = await identity.identify({ siteId: SITE, deviceId: dev, token: token('erin') });
      expect(res.attached).toBe(1);
      const after = receipt({ deviceId: dev });
      await storeReceipt(db, after, T0 + 1000);
      const other = receipt();
      await storeReceipt(db, other, T0 + 1000);
      const { rows } = await db.query<{ receipt_id: string; subject_id: string | null }>(
        'SELECT receipt_id, subject_id FROM receipts WHERE receipt_id = ANY($1::uuid[])',
        [[before.receiptId, after.receiptId, other.receiptId]],
      );
      const subjectOf = Object.fromEntries(rows.map((r) => [r.receipt_id, r.subject_id]));
      expect(subjectOf[before.receiptId]).toBe(res.subjectId);
      expect(subjectOf[after.receiptId]).toBe(res.subjectId);
      expect(subjectOf[other.receiptId]).toBeNull();
      const { rows: links } = await db.query<{ first_seen: number }>(
        'SELECT first_seen FROM identity_links WHERE device_id = $1',
        [dev],
      );
      expect(Number(links[0]?.first_seen)).toBe(T0 - 1000);
    });

    it('forget unlinks on the server (and audits); later receipts stay out of the subject', async () => {
      const dev = deviceId();
      const { subjectId } = await identity.identify({ siteId: SITE, deviceId: dev, token: token('fay') });
      expect(await identity.forget({ siteId: SITE, deviceId: dev })).toEqual({ unlinked: true });
      expect(await identity.forget({ siteId: SITE, deviceId: dev })).toEqual({ unlinked: false });
      expect(await linkOf(dev)).toEqual([]);
      await storeReceipt(db, receipt({ deviceId: dev }), T0 + 5);
      expect(await identity.consentFor(SITE, dev)).toBeNull();
      const { rows } = await db.query('SELECT 1 FROM receipts WHERE subject_id = $1', [subjectId]);
      expect(rows).toHaveLength(0);
      expect((await audits(dev)).map((a) => `${a.action}:${a.reason}`)).toEqual([
        'identify:null',
        'forget:null',
        'forget:not-linked',
      ]);
    });

    it('concurrent links of overlapping devices never leave a device with two subjects', async () => {
      const devices = [deviceId(), deviceId(), deviceId()];
      const users = ['u1', 'u2', 'u3', 'u4'];
      const attempts = users.flatMap((u) =>
        devices.map((dev) => identity.identify({ siteId: SITE, deviceId: dev, token: token(u) })),
      );
      const results = await Promise.allSettled(attempts);
      expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
      const { rows } = await db.query<{ device_id: string; n: number }>(
        'SELECT device_id, count(*)::int AS n FROM identity_links WHERE device_id = ANY($1) GROUP BY device_id',
        [devices],
      );
      expect(rows).toHaveLength(3);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    });

    it('a receipt stored while its device is being linked ends in the subject history', async () => {
      const dev = deviceId();
      const rs = Array.from({ length: 6 }, () => receipt({ deviceId: dev }));
      const [{ subjectId }] = await Promise.all([
        identity.identify({ siteId: SITE, deviceId: dev, token: token('gus') }),
        ...rs.map((r, i) => storeReceipt(db, r, T0 + i)),
      ]);
      const { rows } = await db.query<{ subject_id: string | null }>(
        'SELECT subject_id FROM receipts WHERE device_id = $1',
        [dev],
      );
      expect(rows.map((r) => r.subject_id)).toEqual(rs.map(() => subjectId));
    });

    it('the subject consent merges all its devices: newest server time per category wins, in any arrival order', async () => {
      const [phone, desk] = [deviceId(), deviceId()];
      await identity.identify({ siteId: SITE, deviceId: phone, token: token('hal') });
      await identity.identify({ siteId: SITE, deviceId: desk, token: token('hal') });
      // The desktop's receipt arrives after the phone's, but the phone's answer about marketing is newer
      // on the server clock, so it wins; each category keeps its own winner.
      await storeReceipt(
        db,
        receipt({ deviceId: phone, categories: { necessary: true, analytics: true } }),
        T0 + 2000,
      );
      await storeReceipt(
        db,
        receipt({ deviceId: desk, categories: { necessary: true, analytics: false, marketing: true } }),
        T0 + 1000,
      );
      await storeReceipt(db, receipt({ deviceId: phone, categories: { marketing: false } }), T0 + 3000);
      const state = await identity.consentFor(SITE, desk);
      expect(state?.subjectId).toBe(p.subjectId(SITE, 'hal'));
      expect(state?.decision?.categories).toEqual({ analytics: true, marketing: false, necessary: true });
      expect(state?.decision?.updatedAt).toEqual({
        analytics: T0 + 2000,
        marketing: T0 + 3000,
        necessary: T0 + 2000,
      });
      expect(state?.decision?.receivedAt).toBe(T0 + 3000);
      expect(await identity.consentFor(SITE, deviceId())).toBeNull();
    });

    it('lists the subject devices with coarse browser and seen times, and unlinks only its own', async () => {
      const [a, b] = [deviceId(), deviceId()];
      await identity.identify({ siteId: SITE, deviceId: a, token: token('ivy'), userAgent: CHROME_ANDROID });
      clock += 60_000;
      await identity.identify({
        siteId: SITE,
        deviceId: b,
        token: token('ivy'),
        userAgent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
      });
      const list = await identity.listDevices(SITE, b);
      expect(list.devices.map((x) => [x.browser, x.current, x.firstSeen])).toEqual([
        ['Chrome · Android', false, T0],
        ['Safari · macOS', true, T0 + 60_000],
      ]);
      expect(JSON.stringify(list)).not.toContain(a);
      const stranger = deviceId();
      await identity.identify({ siteId: SITE, deviceId: stranger, token: token('jay') });
      const handleOfA = list.devices[0]?.id as string;
      await expect(
        identity.unlinkDevice({ siteId: SITE, deviceId: stranger, handle: handleOfA }),
      ).rejects.toMatchObject({
        name: 'DeviceNotFound',
      });
      await identity.unlinkDevice({ siteId: SITE, deviceId: b, handle: handleOfA });
      expect(await linkOf(a)).toEqual([]);
      expect((await identity.listDevices(SITE, b)).devices).toHaveLength(1);
      expect(await identity.listDevices(SITE, a)).toEqual({ subjectId: null, devices: [] });
    });
  });
});
