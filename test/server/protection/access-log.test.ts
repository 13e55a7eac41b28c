import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import type { AdminActor } from '../../../src/server/protection/admin-auth.ts';
import { type AccessLog, createAccessLog } from '../../../src/server/protection/access-log.ts';
import { databases } from '../../helpers/databases.ts';

const actor: AdminActor = {
  keyId: 'aaaaaaaaaaaaaaaa',
  role: 'admin',
  siteId: null,
  ip: '127.0.0.1',
  userAgent: 'vitest',
};

describe.each(databases)('access log on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let log: AccessLog;
    let clock: number;
    const keyring = createMemoryKeyring();
    beforeEach(async () => {
      db = await d.create();
      clock = 1_700_000_000_000;
      log = createAccessLog({ db, keyring, now: () => clock });
    });
    afterEach(async () => db.drop());

    async function fill(n: number) {
      for (let i = 0; i < n; i++) {
        clock += 1000;
        await log.append({
          actor,
          action: i % 2 ? 'contacts.read' : 'subject.export',
          siteId: 'shop',
          subjectId: `s_${i % 3}`,
          detail: { i, format: 'json' },
        });
      }
    }

    it('appends a gapless chain, queryable by subject and time, and verifies', async () => {
      await fill(7);
      const all = await log.query({});
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all[0]?.prevHash).toBe('0'.repeat(64));
      expect(all[1]?.prevHash).toBe(all[0]?.hash);
      expect(all[2]).toMatchObject({
        keyId: actor.keyId,
        role: 'admin',
        ip: '127.0.0.1',
        userAgent: 'vitest',
      });
      expect((await log.query({ subjectId: 's_1' })).map((e) => e.seq)).toEqual([2, 5]);
      const t0 = 1_700_000_000_000;
      expect((await log.query({ from: t0 + 3000, to: t0 + 5000 })).map((e) => e.seq)).toEqual([3, 4]);
      expect((await log.query({ afterSeq: 5, limit: 1 })).map((e) => e.seq)).toEqual([6]);
      expect(await log.signHead()).toMatchObject({ seq: 7, hash: all[6]?.hash });
      expect(await log.signHead()).toBeNull(); // nothing new
      expect(await log.verify()).toMatchObject({ ok: true, entries: 7, heads: 1, firstSeq: 1, lastSeq: 7 });
    });

    it('keeps one chain under concurrent appends', async () => {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          log.append({ actor, action: 'subject.read', subjectId: `s_${i}` }),
        ),
      );
      const v = await log.verify();
      expect(v).toMatchObject({ ok: true, entries: 12, lastSeq: 12 });
    });

    it('catches an edited, deleted, reordered or truncated entry and a forged head', async () => {
      const tamper = async (sql: string, expected: RegExp) => {
        await db.query('DELETE FROM access_log');
        await db.query('DELETE FROM access_log_heads');
        await fill(5);
        await log.signHead();
        await fill(2);
        await db.query(sql);
        const v = await log.verify();
        expect(v.ok, sql).toBe(false);
        expect(v.problem?.reason, sql).toMatch(expected);
      };
      await tamper("UPDATE access_log SET subject_id = 's_other' WHERE seq = 3", /entry 3 was changed/);
      await tamper(`UPDATE access_log SET detail = '{"i": 99}' WHERE seq = 6`, /entry 6 was changed/);
      await tamper('DELETE FROM access_log WHERE seq = 4', /entry 4 is missing/);
      await tamper('DELETE FROM access_log WHERE seq = 1', /entries before 2 are missing/);
      await tamper('DELETE FROM access_log WHERE seq >= 5', /up to 5 were signed but are missing/);
      await tamper(
        'UPDATE access_log a SET prev_hash = b.prev_hash FROM access_log b WHERE a.seq = 2 AND b.seq = 3',
        /entry 2 does not follow entry 1/,
      );
      await tamper("UPDATE access_log_heads SET hash = repeat('a', 64)", /signature does not match/);
    });

    it('catches a chain rewritten after an edit when a signed head covers it', async () => {
      await fill(4);
      await log.signHead();
      // Rewrite entry 2 and recompute every hash after it, as an attacker with SQL access could.
      const rows = await log.query({});
      await db.query('DELETE FROM access_log');
      const forger = createAccessLog({ db, now: () => clock });
      for (const e of rows) {
        await forger.append({
          actor: { keyId: e.keyId, role: 'admin', siteId: null, ip: e.ip, userAgent: e.userAgent },
          action: e.seq === 2 ? 'nothing.to.see' : e.action,
          siteId: e.siteId,
          subjectId: e.subjectId,
          detail: e.detail,
        });
      }
      const v = await log.verify();
      expect(v.ok).toBe(false);
      expect(v.problem?.reason).toMatch(/contradicts the head signed at 4/);
    });

    it('prunes only before a signed head older than the cut-off, and what remains still verifies', async () => {
      await fill(3); // at t0+1000..3000
      await log.signHead(); // head at 3
      await fill(3); // 4..6
      await log.signHead(); // head at 6, at t0+6000
      await fill(2);
      const t0 = 1_700_000_000_000;
      expect(await log.prune(t0 + 2000)).toBe(0); // no signed head older than the cut-off
      expect(await log.prune(t0 + 5000)).toBe(2); // up to the head at 3, which stays as the anchor
      expect((await log.query({})).map((e) => e.seq)).toEqual([3, 4, 5, 6, 7, 8]);
      expect(await log.verify()).toMatchObject({ ok: true, firstSeq: 3, lastSeq: 8 });
      expect(await log.prune(t0 + 100_000)).toBe(3);
      expect(await log.verify()).toMatchObject({ ok: true, firstSeq: 6, entries: 3 });
      await log.append({ actor, action: 'subject.read' });
      expect(await log.verify()).toMatchObject({ ok: true, lastSeq: 9 });
    });
  });
});
