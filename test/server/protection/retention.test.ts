import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { createAccessLog } from '../../../src/server/protection/access-log.ts';
import { createContactCrypto, parseContactKeys } from '../../../src/server/protection/contact-crypto.ts';
import { createContactStore } from '../../../src/server/protection/contact-store.ts';
import { createRetention, listRetentionRuns } from '../../../src/server/protection/retention.ts';
import {
  defaultRetentionPolicy,
  type RetentionPolicy,
} from '../../../src/server/protection/retention-policy.ts';
import { databases } from '../../helpers/databases.ts';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;
const hasher = {
  hash: (kind: string, v: string) => createHmac('sha256', 'k').update(`${kind}\0${v}`).digest('hex'),
};
const crypto = createContactCrypto(
  parseContactKeys({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
);
const actor = { keyId: 'a'.repeat(16), role: 'admin' as const, siteId: null, ip: null, userAgent: null };

const count = async (db: Db, sql: string) =>
  Number((await db.query<{ n: number }>(`SELECT count(*) AS n FROM ${sql}`)).rows[0]?.n);

/** One row just past its retention and one just within it, for every kind the policy names. */
async function seed(db: Db) {
  const p = defaultRetentionPolicy();
  const old = (days: number | null) => NOW - (days ?? 0) * DAY - 1;
  const fresh = (days: number | null) => NOW - (days ?? 0) * DAY + 1;

  for (const [device, seen] of [
    ['d_old', old(p.deviceLinks)],
    ['d_new', fresh(p.deviceLinks)],
  ] as const) {
    await db.query(
      `INSERT INTO identity_links (site_id, device_id, subject_id, via, browser, linked_at, first_seen, last_seen)
       VALUES ('shop', $1, 's_x', 'token', 'b', 0, 0, $2)`,
      [device, seen],
    );
  }
  const contacts = createContactStore({ db, crypto, pseudonymizer: hasher, now: () => old(p.contactData) });
  await contacts.put({ siteId: 'shop', subjectId: 's_gone', kind: 'email', value: 'gone@example.com' });
  await contacts.put({ siteId: 'shop', subjectId: 's_consenting', kind: 'email', value: 'keep@example.com' });
  await createContactStore({ db, crypto, pseudonymizer: hasher, now: () => fresh(p.contactData) }).put({
    siteId: 'shop',
    subjectId: 's_recent',
    kind: 'email',
    value: 'recent@example.com',
  });
  // s_consenting still has a granted, current consent: their address is kept for the renewal.
  await db.query(
    `INSERT INTO email_preferences (site_id, subject_id, purpose, channel, granted, receipt_id, method, received_at, expires_at)
     VALUES ('shop', 's_consenting', 'newsletter', 'email', true, $1, 'email-link', 0, $2)`,
    [randomUUID(), NOW + DAY],
  );
  for (const [hash, exp] of [
    ['p_old', old(p.pairingCodes)],
    ['p_new', fresh(p.pairingCodes)],
  ] as const) {
    await db.query(
      `INSERT INTO pairing_codes (code_hash, site_id, device_id, created_at, expires_at) VALUES ($1, 'shop', 'd', 0, $2)`,
      [hash, exp],
    );
    await db.query(`INSERT INTO identity_jti (site_id, jti_hash, expires_at) VALUES ('shop', $1, $2)`, [
      hash,
      exp,
    ]);
    await db.query(
      `INSERT INTO email_sessions (id_hash, site_id, subject_id, csrf, created_at, expires_at) VALUES ($1, 'shop', 's', 'c', 0, $2)`,
      [hash, exp],
    );
  }
  await db.query(`INSERT INTO rate_limits (key, window_start, hits) VALUES ('a', $1, 1), ('b', $2, 1)`, [
    old(p.rateLimits),
    fresh(p.rateLimits),
  ]);
  await db.query(
    `INSERT INTO identity_audit (at, site_id, action, outcome) VALUES ($1, 'shop', 'identify', 'ok'), ($2, 'shop', 'identify', 'ok')`,
    [old(p.identityAudit), fresh(p.identityAudit)],
  );
  for (const [state, at] of [
    ['delivered', old(p.webhookDeliveries)],
    ['pending', old(p.webhookDeliveries)],
    ['dead', fresh(p.webhookDeliveries)],
  ] as const) {
    await db.query(
      `INSERT INTO webhook_deliveries (event_id, site_id, endpoint, subject_id, payload, created_at, state, next_attempt_at)
       VALUES ($1, 'shop', 'https://crm.example/hook', 's', '{}', $2, $3, 0)`,
      [randomUUID(), at, state],
    );
  }
  // Access log: three entries long ago, a signed head at the third, two recent ones.
  let t = old(p.accessLog) - 10;
  const log = createAccessLog({ db, keyring: createMemoryKeyring(), now: () => t++ });
  for (let i = 0; i < 3; i++) await log.append({ actor, action: 'subject.read' });
  await log.signHead();
  t = fresh(p.accessLog);
  for (let i = 0; i < 2; i++) await log.append({ actor, action: 'subject.read' });
  return log;
}

describe.each(databases)('retention on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    beforeEach(async () => {
      db = await d.create();
    });
    afterEach(async () => db.drop());

    it('removes exactly what is due, keeps the rest, and records the run', async () => {
      const log = await seed(db);
      const retention = createRetention({
        db,
        policy: defaultRetentionPolicy(),
        accessLog: log,
        now: () => NOW,
      });

      const dry = await retention.run({ trigger: 'cli', dryRun: true });
      const expected = {
        deviceLinks: 1,
        contactData: 1,
        accessLog: 2,
        pairingCodes: 1,
        tokenReplay: 1,
        rateLimits: 1,
        sessions: 1,
        identityAudit: 1,
        webhookDeliveries: 1,
        retentionRuns: 0,
      };
      expect(dry).toMatchObject({ dryRun: true, trigger: 'cli', results: expected, error: null });
      expect(await count(db, 'identity_links')).toBe(2); // a dry run changes nothing

      const run = await retention.run({ trigger: 'schedule' });
      expect(run).toMatchObject({ dryRun: false, trigger: 'schedule', results: expected, startedAt: NOW });
      expect(run?.results).not.toHaveProperty('receipts'); // kept by default

      expect((await db.query<{ device_id: string }>('SELECT device_id FROM identity_links')).rows).toEqual([
        { device_id: 'd_new' },
      ]);
      const subjects = (
        await db.query<{ subject_id: string }>('SELECT subject_id FROM contacts ORDER BY subject_id')
      ).rows;
      expect(subjects.map((r) => r.subject_id)).toEqual(['s_consenting', 's_recent']);
      for (const [table, col] of [
        ['pairing_codes', 'code_hash'],
        ['identity_jti', 'jti_hash'],
        ['email_sessions', 'id_hash'],
      ]) {
        expect((await db.query(`SELECT ${col} AS k FROM ${table}`)).rows, table).toEqual([{ k: 'p_new' }]);
      }
      expect((await db.query('SELECT key FROM rate_limits')).rows).toEqual([{ key: 'b' }]);
      expect(await count(db, 'identity_audit')).toBe(1);
      expect((await db.query('SELECT state FROM webhook_deliveries ORDER BY state')).rows).toEqual([
        { state: 'dead' },
        { state: 'pending' },
      ]);
      expect(
        (await db.query('SELECT seq FROM access_log ORDER BY seq')).rows.map((r) => Number(r.seq)),
      ).toEqual([3, 4, 5]);
      expect(await log.verify()).toMatchObject({ ok: true, firstSeq: 3, lastSeq: 5 });

      // Nothing more is due: a second run removes nothing.
      const again = await retention.run({ trigger: 'cli' });
      expect(Object.values(again?.results ?? {}).every((n) => n === 0)).toBe(true);
      const runs = await listRetentionRuns(db);
      expect(runs.map((r) => [r.trigger, r.dryRun])).toEqual([
        ['cli', false],
        ['schedule', false],
        ['cli', true],
      ]);
      expect(runs[1]?.policy.deviceLinks).toBe(395);
    });

    it('detaches receipts from people inactive past the period, never deleting a leaf', async () => {
      const policy: RetentionPolicy = { ...defaultRetentionPolicy(), receipts: 1000 };
      const insert = async (subject: string, at: number) =>
        db.query(
          `INSERT INTO receipts (receipt_id, site_id, device_id, subject_id, method, collected_at, received_at, entry, leaf_hash, kid, sig)
           VALUES ($1, 'shop', 'd', $2, 'api', $3, $3, '{}', 'h', 'k', 's')`,
          [randomUUID(), subject, at],
        );
      await insert('s_quiet', NOW - 2000 * DAY);
      await insert('s_quiet', NOW - 1500 * DAY);
      await insert('s_active', NOW - 2000 * DAY);
      await insert('s_active', NOW - 10 * DAY);
      const retention = createRetention({ db, policy, accessLog: createAccessLog({ db }), now: () => NOW });
      expect((await retention.run({ trigger: 'cli' }))?.results.receipts).toBe(2);
      const { rows } = await db.query<{ subject_id: string | null; n: number }>(
        'SELECT subject_id, count(*) AS n FROM receipts GROUP BY subject_id ORDER BY subject_id',
      );
      expect(rows.map((r) => [r.subject_id, Number(r.n)])).toEqual([
        ['s_active', 2],
        [null, 2],
      ]);
    });

    it.runIf(d.name === 'postgres')('lets one instance run at a time', async () => {
      const retention = createRetention({
        db,
        policy: defaultRetentionPolicy(),
        accessLog: createAccessLog({ db }),
      });
      const other = await db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock(727016)');
        return retention.run({ trigger: 'schedule' });
      });
      expect(other).toBeNull();
      expect(await retention.run({ trigger: 'schedule' })).not.toBeNull();
    });
  });
});
