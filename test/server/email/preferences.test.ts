import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createPreferencesService } from '../../../src/server/email/preferences-service.ts';
import { verifyLog } from '../../../src/server/log/verify.ts';
import { createAccessLog } from '../../../src/server/protection/access-log.ts';
import { defaultRetentionPolicy } from '../../../src/server/protection/retention-policy.ts';
import { createRetention } from '../../../src/server/protection/retention.ts';
import { subjectCommitment } from '../../../src/server/services/subject-commitment.ts';
import { databases } from '../../helpers/databases.ts';
import { DAY, emailConfig, testClock, testSecrets } from './fixtures.ts';

describe.each(databases)('preferences service on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeAll(async () => {
      db = await d.create();
    });
    afterAll(async () => {
      await db.drop();
    });

    function setup() {
      const clock = testClock();
      const { keyring, pseudonymizer } = testSecrets();
      const service = createPreferencesService({ db, config: emailConfig(), keyring, now: clock.now });
      return { clock, service, subject: pseudonymizer.subjectId('shop', 'user-1') };
    }

    async function receiptCount(subject: string) {
      return (await db.query('SELECT 1 FROM receipts WHERE subject_id = $1', [subject])).rows.length;
    }

    it('records a decision as a signed receipt of the subject, with a lifetime per purpose', async () => {
      const { service, subject, clock } = setup();
      const signed = await service.decide({
        siteId: 'shop',
        subjectId: subject,
        method: 'email-link',
        language: 'it',
        choices: { newsletter: { email: true, sms: false }, offers: { email: true } },
      });
      expect(signed.receipt).toMatchObject({
        method: 'email-link',
        deviceId: null,
        preferences: { newsletter: { email: true, sms: false }, offers: { email: true } },
        expiries: { newsletter: clock.now() + 365 * DAY, offers: clock.now() + 30 * DAY },
        expiresAt: clock.now() + 30 * DAY,
        previousReceiptId: null,
      });
      expect(signed.signature.sig).toBeTruthy();
      const rows = await db.query<{ subject_id: string }>(
        'SELECT subject_id FROM receipts WHERE receipt_id = $1',
        [signed.receipt.receiptId],
      );
      expect(rows.rows[0]?.subject_id).toBe(subject);

      const view = await service.view('shop', subject);
      expect(view.map((i) => [i.purpose, i.channel, i.granted])).toEqual([
        ['newsletter', 'email', true],
        ['newsletter', 'sms', false],
        ['offers', 'email', true],
        ['offers', 'sms', false],
        ['catalogue', 'post', false],
      ]);
      expect(view.find((i) => i.purpose === 'offers' && i.channel === 'sms')?.decided).toBeNull();

      // An expired grant counts as denied.
      clock.advance(31 * DAY);
      const later = await service.view('shop', subject);
      expect(later.find((i) => i.purpose === 'offers' && i.channel === 'email')).toMatchObject({
        granted: false,
        decided: true,
        expired: true,
      });
      expect(later.find((i) => i.purpose === 'newsletter' && i.channel === 'email')?.granted).toBe(true);

      // Renewal grants again what was granted, for a fresh lifetime, and chains to the previous receipt.
      const renewed = await service.renew({ siteId: 'shop', subjectId: subject, language: 'en' });
      expect(renewed?.receipt.method).toBe('renewal');
      expect(renewed?.receipt.preferences).toEqual({ newsletter: { email: true }, offers: { email: true } });
      expect(renewed?.receipt.previousReceiptId).toBe(signed.receipt.receiptId);
      expect((await service.view('shop', subject)).filter((i) => i.granted).length).toBe(2);

      clock.advance(1000);
      const off = await service.unsubscribe({
        siteId: 'shop',
        subjectId: subject,
        method: 'unsubscribe',
        language: 'it',
      });
      expect(off.receipt.preferences).toEqual({
        newsletter: { email: false, sms: false },
        offers: { email: false, sms: false },
        catalogue: { post: false },
      });
      expect((await service.view('shop', subject)).some((i) => i.granted)).toBe(false);
      expect((await service.history('shop', subject)).map((r) => r.receipt.method)).toEqual([
        'email-link',
        'renewal',
        'unsubscribe',
      ]);
      expect(await service.renew({ siteId: 'shop', subjectId: subject, language: 'en' })).toBeNull();
    });

    it('signs who the decision is for: verify catches an edited subject; retention detaches it and the proof holds', async () => {
      // A database of its own: verify reads the whole log, and the other tests' receipts have other keys.
      const db = await d.create();
      const clock = testClock();
      const { keyring, pseudonymizer } = testSecrets();
      const service = createPreferencesService({ db, config: emailConfig(), keyring, now: clock.now });
      const subject = pseudonymizer.subjectId('shop', 'user-1');
      const signed = await service.decide({
        siteId: 'shop',
        subjectId: subject,
        method: 'api',
        language: 'en',
        choices: { newsletter: { email: true } },
      });
      const id = signed.receipt.receiptId;
      const row = async () =>
        (
          await db.query<{ subject_id: string | null; subject_salt: string | null }>(
            'SELECT subject_id, subject_salt FROM receipts WHERE receipt_id = $1',
            [id],
          )
        ).rows[0]!;
      const { subject_salt: salt } = await row();
      expect(salt).toMatch(/^[0-9a-f]{64}$/);
      // In the signed receipt: the subject column alone was no proof of whose opt-in this is.
      expect(signed.receipt.subjectCommitment).toBe(subjectCommitment(salt!, subject));
      const shop = async () => (await verifyLog({ db, keyring, siteId: 'shop' })).sites[0]!.problems;
      expect(await shop()).toEqual([]);
      // Someone with SQL access gives the opt-in to another person (the append-only trigger allows the column).
      const other = pseudonymizer.subjectId('shop', 'user-2');
      await db.query('UPDATE receipts SET subject_id = $2 WHERE receipt_id = $1', [id, other]);
      expect(await shop()).toEqual([
        expect.objectContaining({
          kind: 'receipt-entry',
          receiptId: id,
          message: expect.stringContaining('column subject_id differs from the signed entry'),
        }),
      ]);
      await db.query('UPDATE receipts SET subject_id = $2 WHERE receipt_id = $1', [id, subject]);
      // Retention detaches the receipt from its person: subject and salt go, the commitment names nobody.
      const retention = createRetention({
        db,
        policy: { ...defaultRetentionPolicy(), receipts: 1 },
        accessLog: createAccessLog({ db }),
        now: () => clock.now() + 10 * DAY,
      });
      await retention.run({ trigger: 'cli' });
      expect(await row()).toEqual({ subject_id: null, subject_salt: null });
      expect(await shop()).toEqual([]);
      await db.drop();
    });

    it('tells an expired grant from a refusal past its expiry', async () => {
      const { service, clock } = setup();
      const subject = `s_${'x'.repeat(43)}`;
      await service.decide({
        siteId: 'shop',
        subjectId: subject,
        method: 'api',
        language: 'en',
        choices: { offers: { email: true, sms: false } },
      });
      const item = async (channel: string) =>
        (await service.view('shop', subject)).find((i) => i.purpose === 'offers' && i.channel === channel);
      clock.advance(30 * DAY - 1);
      expect(await item('email')).toMatchObject({ granted: true, expired: false });
      clock.advance(1); // the very millisecond of expiry
      expect(await item('email')).toMatchObject({ granted: false, decided: true, expired: true });
      expect(await item('sms')).toMatchObject({ granted: false, decided: false, expired: false });
    });

    it('refuses unknown purposes and channels and stores nothing', async () => {
      const { service, subject } = setup();
      await expect(
        service.decide({
          siteId: 'shop',
          subjectId: subject,
          method: 'api',
          language: 'en',
          choices: { spam: { email: true } },
        }),
      ).rejects.toMatchObject({ status: 422 });
      await expect(
        service.decide({
          siteId: 'shop',
          subjectId: subject,
          method: 'api',
          language: 'en',
          choices: { catalogue: { email: true } },
        }),
      ).rejects.toMatchObject({ status: 422 });
      await expect(
        service.decide({ siteId: 'nope', subjectId: subject, method: 'api', language: 'en', choices: {} }),
      ).rejects.toMatchObject({ status: 404 });
      expect(await receiptCount(subject)).toBe(0);
      expect((await service.view('shop', subject)).some((i) => i.decided !== null)).toBe(false);
    });
  });
});
