import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/server/app.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { parseContactKeys } from '../../../src/server/protection/contact-crypto.ts';
import { createProtection, type Protection } from '../../../src/server/protection/protection.ts';
import { databases } from '../../helpers/databases.ts';

const SUBJECT = 's_ada';

describe.each(databases)('admin API roles and access log on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let protection: Protection;
    let app: ReturnType<typeof createApp>;
    const tokens: Record<string, string> = {};

    beforeAll(async () => {
      db = await d.create();
      const keyring = createMemoryKeyring();
      const now = () => Date.now();
      protection = createProtection({
        db,
        keyring,
        now,
        pseudonymizer: createPseudonymizer(randomBytes(32)),
        contactKeys: parseContactKeys({ current: 'k1', keys: { k1: randomBytes(32).toString('base64') } }),
      });
      const config = parseConfig({
        sites: [
          { id: 'shop', origins: ['https://shop.example'] },
          { id: 'blog', origins: ['https://blog.example'] },
        ],
        rateLimit: false,
      });
      app = createApp({ db, config, keyring, now, logger: pino({ level: 'silent' }), protection });
      for (const [name, role, siteId] of [
        ['admin', 'admin', null],
        ['operator', 'operator', null],
        ['auditor', 'auditor', null],
        ['blogAdmin', 'admin', 'blog'],
      ] as const) {
        tokens[name] = (await protection.adminKeys.create({ role, siteId })).token;
      }
      await protection.contacts?.put({
        siteId: 'shop',
        subjectId: SUBJECT,
        kind: 'email',
        value: 'mario@example.com',
      });
      const id = randomUUID();
      await db.query(
        `INSERT INTO receipts (receipt_id, site_id, device_id, subject_id, method, collected_at, received_at, entry, leaf_hash, kid, sig)
         VALUES ($1, 'shop', 'd1', $2, 'api', 1, 1, $3, 'h', 'k', 's')`,
        [id, SUBJECT, JSON.stringify({ receipt: { receiptId: id }, receivedAt: 1 })],
      );
    });
    afterAll(async () => db.drop());

    const get = (path: string, who?: string) =>
      app.request(path, {
        headers: who ? { Authorization: `Bearer ${tokens[who]}`, 'User-Agent': `test-${who}` } : {},
      });
    const logSize = async () => (await protection.accessLog.query({ limit: 1000 })).length;

    it("lets each role make its own calls, refuses the others' with 403, and logs every personal-data read", async () => {
      const base = `/v1/admin/subjects/${SUBJECT}`;
      const matrix: Array<[string, string, number, string | null]> = [
        // [who, path, status, access-log action or null]
        ['admin', `${base}/contacts?site=shop`, 200, 'contacts.read'],
        ['operator', `${base}/contacts?site=shop`, 200, 'contacts.read'],
        ['auditor', `${base}/contacts?site=shop`, 403, null],
        ['admin', `${base}/receipts?site=shop`, 200, 'receipts.read'],
        ['operator', `${base}/receipts?site=shop`, 200, 'receipts.read'],
        ['auditor', `${base}/receipts?site=shop`, 200, 'receipts.read'],
        ['admin', `${base}/export?site=shop`, 200, 'subject.export'],
        ['operator', `${base}/export?site=shop`, 403, null],
        ['auditor', `${base}/export?site=shop`, 403, null],
        ['admin', '/v1/admin/access-log', 200, 'access-log.query'],
        ['operator', '/v1/admin/access-log', 403, null],
        ['auditor', '/v1/admin/access-log', 403, null],
        ['auditor', '/v1/admin/access-log/verify', 200, null],
        ['operator', '/v1/admin/access-log/verify', 403, null],
        ['auditor', '/v1/admin/contact-keys', 200, null],
        ['operator', '/v1/admin/contact-keys', 403, null],
        ['auditor', '/v1/admin/retention/runs', 200, null],
        ['blogAdmin', `${base}/export?site=shop`, 403, null],
        ['blogAdmin', `${base}/export`, 200, 'subject.export'],
      ];
      for (const [who, path, status, action] of matrix) {
        const before = await logSize();
        const res = await get(path, who);
        expect(`${who} ${path} → ${res.status}`).toBe(`${who} ${path} → ${status}`);
        expect(res.headers.get('cache-control')).toBe('no-store');
        if (status === 403) expect((await res.json()).type).toBe('https://assenso.dev/problems/forbidden');
        const entries = await protection.accessLog.query({ afterSeq: before, limit: 10 });
        expect(entries.map((e) => e.action)).toEqual(action ? [action] : []);
        if (action)
          expect(entries[0]).toMatchObject({
            role: who === 'blogAdmin' ? 'admin' : who,
            userAgent: `test-${who}`,
          });
      }
      expect(await protection.accessLog.verify()).toMatchObject({ ok: true });
    });

    it('answers 401 without a key, whatever the route', async () => {
      for (const path of [
        '/v1/admin/whoami',
        `/v1/admin/subjects/${SUBJECT}/export?site=shop`,
        '/v1/admin/access-log',
      ]) {
        const res = await get(path);
        expect(res.status).toBe(401);
        expect((await res.json()).type).toBe('https://assenso.dev/problems/unauthorized');
      }
    });

    it('shows contact data in clear to admins, masked to operators', async () => {
      const plain = await (await get(`/v1/admin/subjects/${SUBJECT}/contacts?site=shop`, 'admin')).json();
      expect(plain).toMatchObject({
        masked: false,
        contacts: [{ kind: 'email', value: 'mario@example.com' }],
      });
      const masked = await (await get(`/v1/admin/subjects/${SUBJECT}/contacts?site=shop`, 'operator')).json();
      expect(masked).toMatchObject({
        masked: true,
        contacts: [{ kind: 'email', value: 'm•••@example.com' }],
      });
      const receipts = await (
        await get(`/v1/admin/subjects/${SUBJECT}/receipts?site=shop`, 'auditor')
      ).text();
      expect(receipts).not.toContain('example.com');
      expect(JSON.parse(receipts).receipts).toHaveLength(1);
    });

    it('exports everything about a person as an attachment, and the access log answers by subject and time', async () => {
      const res = await get(`/v1/admin/subjects/${SUBJECT}/export?site=shop`, 'admin');
      expect(res.headers.get('content-disposition')).toMatch(
        /^attachment; filename="assenso-shop-s_ada\.json"/,
      );
      const doc = await res.json();
      expect(doc).toMatchObject({
        format: 'assenso-subject-export/v1',
        subjectId: SUBJECT,
        contacts: [{ value: 'mario@example.com' }],
      });
      expect(doc.receipts).toHaveLength(1);

      const from = new Date(Date.now() - 60_000).toISOString();
      const log = await (await get(`/v1/admin/access-log?subject=${SUBJECT}&from=${from}`, 'admin')).json();
      expect(log.entries.length).toBeGreaterThan(0);
      expect(log.entries.every((e: { subjectId: string }) => e.subjectId === SUBJECT)).toBe(true);
      expect(log.entries.at(-1)).toMatchObject({ action: 'access-log.query', subjectId: SUBJECT });
      expect((await get('/v1/admin/access-log?from=yesterday', 'admin')).status).toBe(400);
      expect((await get('/v1/admin/subjects/bad%20id/export?site=shop', 'admin')).status).toBe(400);
    });
  });
});
