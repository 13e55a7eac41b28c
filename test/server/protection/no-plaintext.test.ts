import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { signIdentity } from '../../../src/server/identity-token.ts';
import { createRetention } from '../../../src/server/protection/retention.ts';
import { defaultRetentionPolicy } from '../../../src/server/protection/retention-policy.ts';
import { databases } from '../../helpers/databases.ts';
import { emailApp, emailConfig, mintLinks, openLink, pageCsrf, postForm } from '../email/fixtures.ts';
import { makeReceipt, postReceipts, SHOP_ORIGIN } from '../helpers.ts';

/** Values that must never be stored in clear: distinctive, so that a match cannot be a coincidence. */
const EMAIL = 'Mario.Rossi+Promo@Example-Shop.it';
const EXTERNAL_ID = 'crm-user-7731904';
const IDENTITY_SECRET = 'identity-secret-for-the-full-flow-0123456789';

interface Column {
  table_name: string;
  column_name: string;
  data_type: string;
}

/** Every text-like column (text, varchar, json, jsonb, arrays, bytea) of every table in the schema. */
async function textColumns(db: Db): Promise<Column[]> {
  const { rows } = await db.query<Column>(
    `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
       AND c.data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'bytea', 'USER-DEFINED')
     ORDER BY c.table_name, c.column_name`,
  );
  return rows;
}

/** Where `needle` occurs (case-insensitive) in any text-like column: `table.column (n rows)`. */
async function findEverywhere(db: Db, columns: Column[], needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const c of columns) {
    const col = `"${c.column_name}"`;
    // bytea is compared in its escape form as well as hex, so raw UTF-8 bytes are caught too.
    const asText = c.data_type === 'bytea' ? `encode(${col}, 'escape')` : `${col}::text`;
    const { rows } = await db.query<{ n: number | string }>(
      `SELECT count(*) AS n FROM "${c.table_name}" WHERE strpos(lower(${asText}), lower($1)) > 0`,
      [needle],
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n > 0) found.push(`${c.table_name}.${c.column_name} (${n} rows)`);
  }
  return found;
}

describe.each(databases)('no plain email or external id in any table after a full flow on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let subjectId: string;
    let columns: Column[];

    beforeAll(async () => {
      db = await d.create();
      const config = emailConfig({
        webhooks: [{ url: 'https://crm.example/hooks/assenso', secret: 'w'.repeat(40) }],
      });
      const shop = config.sites.find((s) => s.id === 'shop')!;
      shop.identity = { secrets: { k1: IDENTITY_SECRET } };
      const t = await emailApp(db, { config });
      const json = { 'content-type': 'application/json', origin: SHOP_ORIGIN };
      const pc = randomBytes(16).toString('hex');
      const phone = randomBytes(16).toString('hex');

      // A visitor decides on the PC; the site's backend identifies them by its own user id.
      const collectedAt = t.clock.now();
      const decided = await postReceipts(t.app, {
        receipts: [makeReceipt('shop', { deviceId: pc, collectedAt, expiresAt: collectedAt + 86_400_000 })],
      });
      expect(decided.status).toBe(200);
      const token = signIdentity({
        secret: IDENTITY_SECRET,
        kid: 'k1',
        siteId: 'shop',
        userId: EXTERNAL_ID,
        now: t.clock.now,
      });
      const identified = await t.app.request('/v1/identify', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ siteId: 'shop', deviceId: pc, token }),
      });
      expect(identified.status).toBe(200);
      subjectId = ((await identified.json()) as { subjectId: string }).subjectId;

      // The phone pairs with the PC by code.
      const pairing = await t.app.request('/v1/pairing', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ siteId: 'shop', deviceId: pc }),
      });
      expect(pairing.status).toBe(201);
      const { code } = (await pairing.json()) as { code: string };
      const claimed = await t.app.request('/v1/pairing/claim', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ siteId: 'shop', deviceId: phone, code }),
      });
      expect(claimed.status).toBe(200);

      // The site's email system mints links with the person's address and user id.
      const links = await mintLinks(t, { userId: EXTERNAL_ID, email: EMAIL });
      expect(links.subjectId).toBe(subjectId);

      // The person opens the preference page, changes two choices, downloads the history, unsubscribes.
      const { cookie } = await openLink(t, links.preferencesUrl);
      const csrf = await pageCsrf(t, cookie);
      const saved = await postForm(t, '/p/save', cookie, [
        ['csrf', csrf],
        ['shown', 'newsletter.email'],
        ['shown', 'offers.sms'],
        ['granted', 'newsletter.email'],
        ['granted', 'offers.sms'],
      ]);
      expect(saved.status).toBe(303);
      expect((await t.app.request('/p/history.json', { headers: { Cookie: cookie } })).status).toBe(200);
      const oneClick = await t.app.request(new URL(links.unsubscribeUrl).pathname, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(oneClick.status).toBe(200);

      // Admins read: contacts in clear and masked, the export, the renewal list, the access log.
      for (const [path, headers] of [
        [`/v1/admin/subjects/${subjectId}/contacts?site=shop`, t.adminHeaders],
        [`/v1/admin/subjects/${subjectId}/contacts?site=shop`, t.operatorHeaders],
        [`/v1/admin/subjects/${subjectId}/export?site=shop`, t.adminHeaders],
        [`/v1/admin/access-log?subject=${subjectId}`, t.adminHeaders],
      ] as const) {
        const res = await t.app.request(path, { headers });
        expect(res.status, path).toBe(200);
      }
      const exported = await (
        await t.app.request(`/v1/admin/subjects/${subjectId}/export?site=shop`, { headers: t.adminHeaders })
      ).text();
      expect(exported).toContain(EMAIL); // the export shows it: it is stored, only not in clear
      await t.protection.accessLog.signHead();
      await createRetention({
        db,
        policy: defaultRetentionPolicy(),
        accessLog: t.protection.accessLog,
        now: t.clock.now,
      }).run({
        trigger: 'cli',
      });
      columns = await textColumns(db);
    });
    afterAll(async () => db.drop());

    it('the scan sees the data it looks through (so a miss means something)', async () => {
      const tables = new Set(columns.map((c) => c.table_name));
      for (const t of [
        'receipts',
        'identity_links',
        'contacts',
        'access_log',
        'email_preferences',
        'webhook_deliveries',
      ])
        expect(tables, t).toContain(t);
      const withSubject = await findEverywhere(db, columns, subjectId);
      for (const where of [
        'receipts.subject_id',
        'identity_links.subject_id',
        'contacts.subject_id',
        'access_log.subject_id',
      ])
        expect(
          withSubject.some((w) => w.startsWith(where)),
          where,
        ).toBe(true);
    });

    it('finds the email address nowhere, in any case or form', async () => {
      for (const needle of [EMAIL, EMAIL.toLowerCase(), EMAIL.split('@')[0]!, 'example-shop.it'])
        expect(await findEverywhere(db, columns, needle), needle).toEqual([]);
    });

    it('finds the site user id nowhere', async () => {
      expect(await findEverywhere(db, columns, EXTERNAL_ID)).toEqual([]);
    });

    it('would report a plain value stored anywhere (negative control)', async () => {
      await db.query("INSERT INTO retention_runs (trigger, started_at, policy) VALUES ('cli', 0, $1)", [
        JSON.stringify({ note: EMAIL.toUpperCase() }),
      ]);
      try {
        expect(await findEverywhere(db, columns, EMAIL)).toEqual(['retention_runs.policy (1 rows)']);
      } finally {
        await db.query('DELETE FROM retention_runs WHERE started_at = 0');
      }
    });
  });
});
