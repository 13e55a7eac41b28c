import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createWebhookWorker } from '../../../src/server/email/webhook-worker.ts';
import { verifyWebhookSignature } from '../../../src/server/email/webhook-signature.ts';
import type { WebhookEvent } from '../../../src/server/email/webhook-events.ts';
import { upsertLink } from '../../../src/server/identity/links-repo.ts';
import { databases } from '../../helpers/databases.ts';
import {
  DAY,
  type EmailApp,
  emailApp,
  emailConfig,
  mintLinks,
  openLink,
  pageCsrf,
  postForm,
} from './fixtures.ts';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef';

/** A real webhook receiver on a random port: verifies the signature; answers 500 once after `failNext()`. */
async function receiver(now: () => number) {
  const accepted: { event: WebhookEvent; attempt: string }[] = [];
  const refused: string[] = [];
  let fail = false;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const ok = verifyWebhookSignature(SECRET, body, req.headers['assenso-signature'] as string, {
        now: now(),
      });
      if (!ok) {
        res.writeHead(400).end();
        return;
      }
      const event = JSON.parse(body) as WebhookEvent;
      if (fail) {
        fail = false;
        refused.push(event.id);
        res.writeHead(500).end();
        return;
      }
      // Dedupe by event id, as receivers are told to.
      if (!accepted.some((a) => a.event.id === event.id))
        accepted.push({ event, attempt: String(req.headers['assenso-delivery-attempt']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    accepted,
    refused,
    failNext() {
      fail = true;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.each(databases)('renewal, erasure and webhooks on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let t: EmailApp;
    let hook: Awaited<ReturnType<typeof receiver>>;
    beforeAll(async () => {
      db = await d.create();
      hook = await receiver(() => t.clock.now());
      t = await emailApp(db, {
        config: emailConfig({ webhooks: [{ url: hook.url, secret: SECRET, allowHttpLoopback: true }] }),
      });
    });
    afterAll(async () => {
      await hook.close();
      await db.drop();
    });

    it('lists whose consents expire by a date, and renews in one click', async () => {
      const subjects: string[] = [];
      for (const [user, purpose] of [
        ['r-offers', 'offers'],
        ['r-news', 'newsletter'],
      ] as const) {
        const { subjectId } = await mintLinks(t, { userId: user, email: `${user}@example.com` });
        subjects.push(subjectId);
        await t.kit.preferences.decide({
          siteId: 'shop',
          subjectId,
          method: 'api',
          language: 'en',
          choices: { [purpose]: { email: true } },
        });
      }
      const list = async (due: string, extra = '') => {
        const res = await t.app.request(`/v1/admin/renewals?site=shop&due=${due}${extra}`, {
          headers: t.adminHeaders,
        });
        expect(res.status).toBe(200);
        return (await res.json()) as {
          entries: {
            subjectId: string;
            email?: string;
            expiring: { purpose: string }[];
            links: { renewalUrl: string };
          }[];
        };
      };
      // offers last 30 days, newsletter 365.
      const soon = await list('31d');
      expect(soon.entries.map((e) => e.subjectId)).toEqual([subjects[0]]);
      expect(soon.entries[0]?.expiring.map((e) => e.purpose)).toEqual(['offers']);
      const dated = await list(new Date(t.clock.now() + 400 * DAY).toISOString().slice(0, 10), '&email=1');
      expect(dated.entries.map((e) => e.subjectId).sort()).toEqual([...subjects].sort());
      expect(dated.entries.find((e) => e.subjectId === subjects[0])?.email).toBe('r-offers@example.com');
      const masked = await t.app.request('/v1/admin/renewals?site=shop&due=31d&email=1', {
        headers: t.operatorHeaders,
      });
      expect(((await masked.json()) as { entries: { email: string }[] }).entries[0]?.email).toBe(
        'r•••@example.com',
      );
      expect(
        (await t.app.request('/v1/admin/renewals?site=shop&due=soon', { headers: t.adminHeaders })).status,
      ).toBe(422);

      // Ten days later the person follows the renewal link: the page opens on its one-click step.
      t.clock.advance(10 * DAY);
      const { res, cookie } = await openLink(t, soon.entries[0]!.links.renewalUrl);
      expect(res.headers.get('location')).toBe('/p?renew=1');
      const page = await (await t.app.request('/p?renew=1', { headers: { Cookie: cookie } })).text();
      expect(page).toContain('action="/p/renew"');
      const renewed = await postForm(t, '/p/renew', cookie, [['csrf', await pageCsrf(t, cookie)]]);
      expect(renewed.headers.get('location')).toBe('/p?done=renewed&lang=it');
      const last = await db.query<{ method: string }>(
        'SELECT method FROM receipts WHERE subject_id = $1 ORDER BY received_at DESC, receipt_id LIMIT 1',
        [subjects[0]],
      );
      expect(last.rows[0]?.method).toBe('renewal');
      expect((await list('21d')).entries).toEqual([]);
      expect((await list('31d')).entries.map((e) => e.subjectId)).toEqual([subjects[0]]);
    });

    it('erases contact data and device links after a one-time confirmation, keeping receipts', async () => {
      const links = await mintLinks(t, { userId: 'e-user', email: 'erase.me@example.com' });
      await t.kit.preferences.decide({
        siteId: 'shop',
        subjectId: links.subjectId,
        method: 'api',
        language: 'en',
        choices: { newsletter: { email: true } },
      });
      await upsertLink(db, {
        siteId: 'shop',
        deviceId: 'a'.repeat(32),
        subjectId: links.subjectId,
        via: 'token',
        browser: 'Chrome',
        linkedAt: t.clock.now(),
        now: t.clock.now(),
      });
      const { cookie } = await openLink(t, links.preferencesUrl);
      const csrf = await pageCsrf(t, cookie);
      const ask = await postForm(t, '/p/erasure', cookie, [['csrf', csrf]]);
      expect(ask.status).toBe(200);
      const confirm = /name="confirm" value="([^"]+)"/.exec(await ask.text())?.[1];
      expect(confirm).toBeTruthy();
      // Nothing is recorded until the confirmation is used.
      expect((await t.kit.erasure.list('shop', { subjectId: links.subjectId })).length).toBe(0);
      const done = await postForm(t, '/p/erasure/confirm', cookie, [
        ['csrf', csrf],
        ['confirm', confirm!],
      ]);
      // Post/Redirect/Get: the page that says so is a GET, which a reload reads again.
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/p/erasure/done?lang=it');
      const received = await t.app.request('/p/erasure/done?lang=it', { headers: { Cookie: cookie } });
      expect(received.status).toBe(200);
      expect(await received.text()).toContain('<h1>Richiesta di cancellazione registrata</h1>');
      // The same confirmation sent again (Back, then the button) lands there too, and records nothing more.
      const replay = await postForm(t, '/p/erasure/confirm', cookie, [
        ['csrf', csrf],
        ['confirm', confirm!],
      ]);
      expect(replay.status).toBe(303);
      expect(replay.headers.get('location')).toBe('/p/erasure/done?lang=it');
      // So does asking again from the preference page: there is nothing more to confirm.
      const askAgain = await postForm(t, '/p/erasure', cookie, [['csrf', csrf]]);
      expect(askAgain.status).toBe(303);
      expect(askAgain.headers.get('location')).toBe('/p/erasure/done?lang=it');
      expect(await t.kit.erasure.list('shop', { subjectId: links.subjectId })).toHaveLength(1);
      // A confirmation of another site's person is refused (wrong site).
      const other = t.pseudonymizer.subjectId('blog', 'e-user');
      const foreign = await t.kit.erasure.startConfirmation('blog', other);
      const wrongSite = await postForm(t, '/p/erasure/confirm', cookie, [
        ['csrf', csrf],
        ['confirm', foreign],
      ]);
      expect(wrongSite.status).toBe(403);
      expect(await wrongSite.text()).toContain('un altro sito');

      const [request] = await t.kit.erasure.list('shop', { subjectId: links.subjectId });
      expect(request).toMatchObject({ status: 'pending', via: 'email-link', requestedAt: t.clock.now() });

      const run = await t.app.request('/v1/admin/erasure/run', {
        method: 'POST',
        headers: t.adminHeaders,
        body: '{"site":"shop"}',
      });
      expect(run.status).toBe(200);
      const result = (await run.json()) as {
        processed: number;
        requests: { subjectId: string; result: unknown }[];
      };
      expect(result.requests.find((r) => r.subjectId === links.subjectId)?.result).toEqual({
        contacts: 1,
        deviceLinks: 1,
        sessions: 1,
      });
      const left = async (table: string) =>
        (await db.query(`SELECT 1 FROM ${table} WHERE subject_id = $1`, [links.subjectId])).rows.length;
      expect(await left('contacts')).toBe(0);
      expect(await left('identity_links')).toBe(0);
      expect(await left('email_sessions')).toBe(0);
      expect(await left('receipts')).toBe(1);
      expect((await t.kit.erasure.list('shop', { subjectId: links.subjectId }))[0]).toMatchObject({
        status: 'done',
      });
      // The old session no longer opens the page.
      expect((await t.app.request('/p', { headers: { Cookie: cookie } })).status).toBe(401);
      expect((await t.app.request('/p/erasure/done', { headers: { Cookie: cookie } })).status).toBe(401);
    });

    it('a confirmation that lapsed unused asks again; the received page without a request leads back', async () => {
      const links = await mintLinks(t, { userId: 'e-lapsed', language: 'en' });
      const { cookie } = await openLink(t, links.preferencesUrl);
      const csrf = await pageCsrf(t, cookie);
      // Nothing asked yet: the address of the received page shows the preference page instead.
      const nothing = await t.app.request('/p/erasure/done?lang=en', { headers: { Cookie: cookie } });
      expect(nothing.status).toBe(303);
      expect(nothing.headers.get('location')).toBe('/p?lang=en');
      const ask = await postForm(t, '/p/erasure', cookie, [['csrf', csrf]]);
      const confirm = /name="confirm" value="([^"]+)"/.exec(await ask.text())![1]!;
      // Its row says it lapsed before the token does (an operator's clean-up, a clock step): ask again.
      await db.query('UPDATE email_erasure_confirmations SET expires_at = $1 WHERE subject_id = $2', [
        t.clock.now(),
        links.subjectId,
      ]);
      const lapsed = await postForm(t, '/p/erasure/confirm', cookie, [
        ['csrf', csrf],
        ['confirm', confirm],
      ]);
      expect(lapsed.status).toBe(409);
      expect(await lapsed.text()).toContain('This confirmation was already used or has expired');
      expect(await t.kit.erasure.list('shop', { subjectId: links.subjectId })).toEqual([]);
    });

    it('delivers every change to a real receiver once, in order per person, despite a failure', async () => {
      const worker = createWebhookWorker({
        db,
        sites: () => t.kit.sites(),
        now: t.clock.now,
        logger: pino({ level: 'silent' }),
        retry: { baseMs: 1000 },
      });
      // Earlier tests queued events too: deliver them first so this test looks at its own.
      t.clock.advance(DAY);
      await worker.drain();
      t.clock.advance(DAY);
      await worker.drain();
      hook.accepted.length = 0;
      hook.failNext();

      const { subjectId } = await mintLinks(t, { userId: 'w-user' });
      const decide = (choices: Record<string, Record<string, boolean>>) =>
        t.kit.preferences.decide({ siteId: 'shop', subjectId, method: 'api', language: 'en', choices });
      const r1 = await decide({ newsletter: { email: true } });
      t.clock.advance(1000);
      const r2 = await decide({ offers: { sms: true } });
      t.clock.advance(1000);
      const r3 = await decide({ newsletter: { email: false } });
      const pending = await db.query('SELECT 1 FROM webhook_deliveries WHERE subject_id = $1', [subjectId]);
      expect(pending.rows).toHaveLength(3);

      await worker.drain();
      // The first event was refused (500): the person's later events wait behind it.
      expect(hook.refused).toEqual([
        JSON.parse(
          (
            await db.query<{ payload: string }>(
              'SELECT payload FROM webhook_deliveries WHERE subject_id = $1 ORDER BY seq LIMIT 1',
              [subjectId],
            )
          ).rows[0]!.payload,
        ).id,
      ]);
      expect(hook.accepted).toEqual([]);
      t.clock.advance(60_000);
      await worker.drain();
      const mine = hook.accepted.filter((a) => a.event.subjectId === subjectId);
      expect(mine.map((a) => a.event.receipt?.receipt.receiptId)).toEqual([
        r1.receipt.receiptId,
        r2.receipt.receiptId,
        r3.receipt.receiptId,
      ]);
      expect(mine.at(-1)?.event.preferences.newsletter?.email?.granted).toBe(false);
      expect(mine.at(-1)?.event.preferences.offers?.sms?.granted).toBe(true);
      expect(mine.map((a) => a.attempt)).toEqual(['2', '1', '1']);
      const states = await db.query<{ state: string }>('SELECT state FROM webhook_deliveries');
      expect(states.rows.every((r) => r.state === 'delivered')).toBe(true);
      const status = await t.app.request('/v1/admin/webhooks/deliveries?site=shop&state=pending', {
        headers: t.adminHeaders,
      });
      expect(((await status.json()) as { deliveries: unknown[] }).deliveries).toEqual([]);
    });
  });
});
