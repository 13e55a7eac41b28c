import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createPreferencesService } from '../../../src/server/email/preferences-service.ts';
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
