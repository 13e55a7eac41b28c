import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/server/config.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { startProtection } from '../../../src/server/protection/server.ts';
import { databases } from '../../helpers/databases.ts';

const actor = { keyId: 'b'.repeat(16), role: 'admin' as const, siteId: null, ip: null, userAgent: null };

describe('the retention configuration', () => {
  it('rejects a retention setting that is not a number of days, naming it', () => {
    expect(() => parseConfig({ sites: [], retention: { contactData: -1 } })).toThrow(
      /retention\.contactData/,
    );
    expect(() => parseConfig({ sites: [], retention: { contactDays: 3 } })).toThrow(/contactDays/);
    expect(parseConfig({ sites: [] }).retention).toMatchObject({
      enabled: true,
      intervalMinutes: 60,
      receipts: null,
    });
  });
});

describe.each(databases)('protection inside the server on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeEach(async () => {
      db = await d.create();
    });
    afterEach(async () => db.drop());

    it('builds the services from the environment and signs the last head when stopping', async () => {
      const keyring = createMemoryKeyring();
      const running = await startProtection({
        db,
        config: parseConfig({ sites: [], retention: { deviceLinks: 30, receipts: null } }),
        keyring,
        now: Date.now,
        logger: pino({ level: 'silent' }),
        env: {
          ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url'),
          ASSENSO_CONTACT_KEYS: JSON.stringify({
            current: 'k9',
            keys: { k9: randomBytes(32).toString('base64') },
          }),
        },
        schedules: false,
      });
      const { protection } = running;
      expect(protection.contactCrypto?.currentKid).toBe('k9');
      await protection.contacts?.put({
        siteId: 'shop',
        subjectId: 's_x',
        kind: 'email',
        value: 'x@example.com',
      });
      expect(await protection.contacts?.findSubject('shop', 'email', 'X@example.com')).toBe('s_x');
      await protection.accessLog.append({
        actor,
        action: 'subject.export',
        siteId: 'shop',
        subjectId: 's_x',
      });
      expect(await protection.accessLog.heads()).toEqual([]);
      await running.stop();
      const heads = await protection.accessLog.heads();
      expect(heads.map((h) => h.seq)).toEqual([1]);
      expect(heads[0]?.kid).toBe(keyring.publicKeys()[0]?.kid);
      expect(await protection.accessLog.verify()).toMatchObject({ ok: true, entries: 1, heads: 1 });
    });
  });
});
