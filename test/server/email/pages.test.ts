import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { formatDate, PAGE_MESSAGES } from '../../../src/server/pages/messages.ts';
import { databases } from '../../helpers/databases.ts';
import { DAY, type EmailApp, emailApp, mintLinks, openLink, pageCsrf, postForm } from './fixtures.ts';

const count = async (db: Db, sql: string, params: unknown[] = []) =>
  (await db.query(sql, params)).rows.length;

describe.each(databases)('email links and the preference page on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let t: EmailApp;
    beforeAll(async () => {
      db = await d.create();
      t = await emailApp(db);
    });
    afterAll(async () => {
      await db.drop();
    });

    it('mints links for a user id, keeping the email only encrypted', async () => {
      const links = await mintLinks(t, { userId: 'u-mint', email: 'Ada.Mint@Example.com', language: 'en' });
      expect(links.subjectId).toBe(t.pseudonymizer.subjectId('shop', 'u-mint'));
      expect(links.preferencesUrl).toMatch(/^https:\/\/consent\.example\/p\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(links.unsubscribeUrl).toMatch(/^https:\/\/consent\.example\/u\//);
      expect(links.listUnsubscribeHeaders).toEqual({
        'List-Unsubscribe': `<${links.unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      });
      expect(links.expiresAt.preferences).toBe(t.clock.now() + 60 * DAY);
      expect(links.expiresAt.unsubscribe).toBe(t.clock.now() + 365 * DAY);
      const dump = JSON.stringify((await db.query('SELECT * FROM contacts')).rows);
      expect(dump).not.toMatch(/ada\.mint/i);
      expect(await t.protection.contacts?.get('shop', links.subjectId, 'email')).toBe('Ada.Mint@Example.com');
      // Admin only; validation errors are problem details.
      const noKey = await t.app.request('/v1/admin/links', { method: 'POST', body: '{}' });
      expect(noKey.status).toBe(401);
      const operator = await t.app.request('/v1/admin/links', {
        method: 'POST',
        headers: { ...t.operatorHeaders, 'Content-Type': 'application/json' },
        body: JSON.stringify({ site: 'shop', userId: 'x' }),
      });
      expect(operator.status).toBe(403);
      const bad = await t.app.request('/v1/admin/links', {
        method: 'POST',
        headers: t.adminHeaders,
        body: JSON.stringify({ site: 'shop', userId: 'x', purposes: ['nope'] }),
      });
      expect(bad.status).toBe(422);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
    });

    it('exchanges the token for a session cookie, shows and saves choices without JavaScript', async () => {
      const links = await mintLinks(t, { userId: 'u-page', email: 'page.person@example.org' });
      const token = new URL(links.preferencesUrl).pathname.slice(3);
      const { res, cookie } = await openLink(t, links.preferencesUrl);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/p');
      const setCookie = res.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/Secure/i);
      expect(setCookie).toMatch(/SameSite=Lax/i);
      expect(setCookie).toMatch(/Path=\/p/);
      expect(setCookie).not.toContain(token);

      const page = await t.app.request('/p', { headers: { Cookie: cookie } });
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      expect(html).toContain('<html lang="it"'); // the site's language (neither the link nor the browser says)
      expect(html).toContain('Shop &amp; Co');
      expect(html).toContain('value="newsletter.email"');
      expect(html).toContain('value="catalogue.post"');
      expect(html).not.toContain(token);

      const csrf = await pageCsrf(t, cookie);
      const shown = ['newsletter.email', 'newsletter.sms', 'offers.email', 'offers.sms', 'catalogue.post'];
      const fields: [string, string][] = [
        ['csrf', csrf],
        ...shown.map((s): [string, string] => ['shown', s]),
        ['granted', 'newsletter.email'],
        ['granted', 'offers.sms'],
      ];
      // Without the CSRF token nothing happens.
      const forged = await postForm(t, '/p/save', cookie, fields.slice(1));
      expect(forged.status).toBe(403);
      expect(await count(db, 'SELECT 1 FROM receipts WHERE subject_id = $1', [links.subjectId])).toBe(0);

      const saved = await postForm(t, '/p/save', cookie, fields);
      expect(saved.status).toBe(303);
      expect(saved.headers.get('location')).toBe('/p?done=saved&lang=it');
      const view = await t.kit.preferences.view('shop', links.subjectId);
      expect(view.filter((i) => i.granted).map((i) => `${i.purpose}.${i.channel}`)).toEqual([
        'newsletter.email',
        'offers.sms',
      ]);
      const after = await (await t.app.request('/p?done=saved', { headers: { Cookie: cookie } })).text();
      expect(after).toContain('Le tue scelte sono state salvate');
      // Said first in the title too, which a screen reader reads when the page after the form loads.
      expect(after).toMatch(/<title>Le tue scelte sono state salvate[^<]* – [^<]+<\/title>/);
      expect(html).toMatch(/<title>(?! )[^–<]+<\/title>/);
      expect(after).toMatch(/value="newsletter\.email" checked/);
      expect(after).toContain('Consenso valido fino al');

      // The hydrated page gets JSON back.
      const json = await postForm(t, '/p/save', cookie, [...fields.slice(0, -1)], 'application/json');
      expect(json.status).toBe(200);
      const props = (await json.json()) as { purposes: { id: string; channels: { granted: boolean }[] }[] };
      expect(props.purposes.find((p) => p.id === 'offers')?.channels.map((c) => c.granted)).toEqual([
        false,
        false,
      ]);

      const history = await t.app.request('/p/history.json', { headers: { Cookie: cookie } });
      expect(history.headers.get('content-disposition')).toContain('attachment');
      const body = (await history.json()) as {
        receipts: { receipt: { method: string } }[];
        held: { subjectId: string; contacts: { kind: string; value: string }[]; receipts: unknown[] };
      };
      expect(body.receipts.map((r) => r.receipt.method)).toEqual(['email-link', 'email-link']);
      // Everything held about the person, their own email in clear (issue 6's per-person export).
      expect(body.held.subjectId).toBe(links.subjectId);
      expect(body.held.contacts).toEqual([
        expect.objectContaining({ kind: 'email', value: 'page.person@example.org' }),
      ]);
      expect(body.held.receipts).toHaveLength(2);

      // Unsubscribe from everything, from the page.
      const off = await postForm(t, '/p/unsubscribe', cookie, [['csrf', csrf]]);
      expect(off.headers.get('location')).toBe('/p?done=unsubscribed&lang=it');
      expect((await t.kit.preferences.view('shop', links.subjectId)).some((i) => i.granted)).toBe(false);

      // Tokens never reach the logs.
      expect(t.logs()).toContain('"path":"/p/[token]"');
      expect(t.logs()).not.toContain(token);
      expect(t.logs()).not.toContain(csrf);
    });

    it("the page speaks the link's language, else the browser's (Accept-Language), else the site's", async () => {
      const lang = async (body: Record<string, unknown>, accept?: string) => {
        const links = await mintLinks(t, body);
        const { cookie } = await openLink(t, links.preferencesUrl);
        const headers: Record<string, string> = { Cookie: cookie };
        if (accept) headers['Accept-Language'] = accept;
        const html = await (await t.app.request('/p', { headers })).text();
        const unsub = new URL(links.unsubscribeUrl).pathname;
        const ask = await (await t.app.request(unsub, { headers })).text();
        return [/<html lang="(\w+)"/.exec(html)?.[1], /<html lang="(\w+)"/.exec(ask)?.[1]];
      };
      // The mailer said nothing: the browser's language (the site's is Italian).
      expect(await lang({ userId: 'u-lang-1' }, 'en-GB,en;q=0.8')).toEqual(['en', 'en']);
      // Nor did the browser: the site's.
      expect(await lang({ userId: 'u-lang-2' })).toEqual(['it', 'it']);
      // The mailer's word wins over the browser's: the page speaks the email's language.
      expect(await lang({ userId: 'u-lang-3', language: 'it' }, 'en-GB,en;q=0.8')).toEqual(['it', 'it']);
    });

    it('answers every token failure with a clear page or problem details, and changes nothing', async () => {
      const links = await mintLinks(t, { userId: 'u-fail' });
      const pref = new URL(links.preferencesUrl).pathname.slice(3);
      const unsub = new URL(links.unsubscribeUrl).pathname.slice(3);
      const sessions = () =>
        count(db, 'SELECT 1 FROM email_sessions WHERE subject_id = $1', [links.subjectId]);
      const receipts = () => count(db, 'SELECT 1 FROM receipts WHERE subject_id = $1', [links.subjectId]);
      const [payload, sig] = pref.split('.') as [string, string];
      const body = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const tampered = `${Buffer.from(JSON.stringify({ ...body, u: 's_x' })).toString('base64url')}.${sig}`;

      const cases: [string, number, string][] = [
        [`/p/${tampered}`, 401, 'non è valido'],
        [`/p/${unsub}`, 403, 'un’altra azione'],
        [`/p/garbage`, 401, 'non è valido'],
      ];
      for (const [path, status, text] of cases) {
        const res = await t.app.request(path, { headers: { Accept: 'text/html' } });
        expect(res.status, path).toBe(status);
        expect(res.headers.get('set-cookie'), path).toBeNull();
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await res.text(), path).toContain(text);
      }
      // One-click POST with a bad token: problem details for a machine.
      const wrong = await t.app.request(`/u/${pref}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(wrong.status).toBe(403);
      expect(await wrong.json()).toMatchObject({ type: 'https://assenso.dev/problems/token-wrong-action' });

      // Expired.
      t.clock.advance(61 * DAY);
      const expired = await t.app.request(`/p/${pref}`, { headers: { 'Accept-Language': 'en' } });
      expect(expired.status).toBe(410);
      expect(await expired.text()).toContain('expired');
      t.clock.advance(-61 * DAY);

      // Revoked: rotating alone keeps old links; retiring the old key revokes them.
      t.rotateLinkKeys(false);
      expect((await t.app.request(`/p/${pref}`)).status).toBe(303);
      t.rotateLinkKeys(true);
      const revoked = await t.app.request(`/p/${pref}`);
      expect(revoked.status).toBe(401);
      expect(await revoked.text()).toContain('revocato');
      const revokedPost = await t.app.request(`/u/${unsub}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(await revokedPost.json()).toMatchObject({
        type: 'https://assenso.dev/problems/token-key-revoked',
      });

      expect(await receipts()).toBe(0);
      expect(await sessions()).toBe(1); // only the one opened before the key was retired
      // A session cookie from nowhere shows the "session ended" page.
      const none = await t.app.request('/p', { headers: { Cookie: 'assenso_pref=x' } });
      expect(none.status).toBe(401);
    });

    it('one-click unsubscribe works with a plain POST, no cookie; GET only asks', async () => {
      const links = await mintLinks(t, { userId: 'u-oneclick', purposes: undefined });
      await t.kit.preferences.decide({
        siteId: 'shop',
        subjectId: links.subjectId,
        method: 'api',
        language: 'en',
        choices: { newsletter: { email: true, sms: true } },
      });
      const path = new URL(links.unsubscribeUrl).pathname;
      const ask = await t.app.request(path, { headers: { Accept: 'text/html' } });
      expect(ask.status).toBe(200);
      const askHtml = await ask.text();
      expect(askHtml).toContain('name="List-Unsubscribe" value="One-Click"');
      expect(ask.headers.get('referrer-policy')).toBe('no-referrer');
      expect((await t.kit.preferences.view('shop', links.subjectId)).some((i) => i.granted)).toBe(true);

      const missing = await t.app.request(path, { method: 'POST' });
      expect(missing.status).toBe(400);

      const res = await t.app.request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.status).toBe(200);
      const { receiptId } = (await res.json()) as { receiptId: string };
      const row = await db.query<{ method: string; entry: string }>(
        'SELECT method, entry FROM receipts WHERE receipt_id = $1',
        [receiptId],
      );
      expect(row.rows[0]?.method).toBe('unsubscribe');
      expect(JSON.parse(row.rows[0]!.entry).receipt.preferences).toEqual({
        newsletter: { email: false, sms: false },
        offers: { email: false, sms: false },
        catalogue: { post: false },
      });
      // Repeated (mailbox providers retry): success, nothing more recorded. Multipart works too.
      const form = new FormData();
      form.set('List-Unsubscribe', 'One-Click');
      const again = await t.app.request(path, { method: 'POST', body: form });
      expect(again.status).toBe(200);
      expect(
        await count(db, "SELECT 1 FROM receipts WHERE subject_id = $1 AND method = 'unsubscribe'", [
          links.subjectId,
        ]),
      ).toBe(1);
    });

    it('links a device from a preference link opened on the site, and refuses other tokens', async () => {
      const links = await mintLinks(t, { userId: 'u-device' });
      const token = new URL(links.preferencesUrl).pathname.slice(3);
      const unsub = new URL(links.unsubscribeUrl).pathname.slice(3);
      const post = (body: Record<string, unknown>, origin = 'https://shop.example') =>
        t.app.request('/v1/email-link/device', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Origin: origin },
          body: JSON.stringify(body),
        });
      const device = 'b'.repeat(32);
      const wrongAction = await post({ site: 'shop', deviceId: device, token: unsub });
      expect(wrongAction.status).toBe(403);
      expect(await wrongAction.json()).toMatchObject({
        type: 'https://assenso.dev/problems/token-wrong-action',
      });
      const wrongSite = await post({ site: 'blog', deviceId: device, token }, 'https://blog.example');
      expect(await wrongSite.json()).toMatchObject({ type: 'https://assenso.dev/problems/token-wrong-site' });
      expect((await post({ site: 'shop', deviceId: device, token }, 'https://evil.example')).status).toBe(
        403,
      );
      expect(await count(db, 'SELECT 1 FROM identity_links WHERE device_id = $1', [device])).toBe(0);

      const ok = await post({ site: 'shop', deviceId: device, token });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ linked: true, moved: false });
      const link = await db.query<{ subject_id: string }>(
        'SELECT subject_id FROM identity_links WHERE device_id = $1',
        [device],
      );
      expect(link.rows[0]?.subject_id).toBe(links.subjectId);
    });

    it('an unsubscribe link limited to purposes denies only those', async () => {
      const links = await mintLinks(t, { userId: 'u-scoped', purposes: ['offers'] });
      const res = await t.app.request(new URL(links.unsubscribeUrl).pathname, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.status).toBe(303);
      const view = await t.kit.preferences.view('shop', links.subjectId);
      expect(view.filter((i) => i.decided === false).map((i) => i.purpose)).toEqual(['offers', 'offers']);
    });

    it('?lang= chosen on the page is the language recorded, and the page after saving keeps it', async () => {
      const links = await mintLinks(t, { userId: 'u-lang' }); // the site's language: Italian
      const { cookie } = await openLink(t, links.preferencesUrl);
      const html = await (await t.app.request('/p?lang=en', { headers: { Cookie: cookie } })).text();
      expect(html).toContain('<html lang="en"');
      // Every form carries the language shown, as the browser posts it.
      expect(html.match(/name="lang" value="en"/g)).toHaveLength(3);
      const csrf = await pageCsrf(t, cookie);
      const saved = await postForm(t, '/p/save', cookie, [
        ['csrf', csrf],
        ['lang', 'en'],
        ['shown', 'newsletter.email'],
        ['granted', 'newsletter.email'],
      ]);
      expect(saved.status).toBe(303);
      expect(saved.headers.get('location')).toBe('/p?done=saved&lang=en');
      const off = await postForm(t, '/p/unsubscribe', cookie, [
        ['csrf', csrf],
        ['lang', 'en'],
      ]);
      expect(off.headers.get('location')).toBe('/p?done=unsubscribed&lang=en');
      // The notice hash is over the English texts the person read.
      const { rows } = await db.query<{ entry: string }>(
        'SELECT entry FROM receipts WHERE subject_id = $1 ORDER BY received_at, receipt_id',
        [links.subjectId],
      );
      expect(rows.map((r) => JSON.parse(r.entry).receipt.language)).toEqual(['en', 'en']);
      const after = await (
        await t.app.request(saved.headers.get('location')!, { headers: { Cookie: cookie } })
      ).text();
      expect(after).toContain('<html lang="en"');
      expect(after).toContain('Your choices are saved');
      // The hydrated page sends the same field and gets the props in that language.
      const json = await postForm(
        t,
        '/p/save',
        cookie,
        [
          ['csrf', csrf],
          ['lang', 'en'],
          ['shown', 'newsletter.email'],
        ],
        'application/json',
      );
      expect(json.status).toBe(200);
      expect(((await json.json()) as { lang: string }).lang).toBe('en');
    });

    it('a form posted after the session ended gets a page; the hydrated page gets problem details', async () => {
      const form: [string, string][] = [
        ['csrf', 'x'],
        ['lang', 'it'],
        ['shown', 'newsletter.email'],
      ];
      for (const path of ['/p/save', '/p/unsubscribe', '/p/renew', '/p/erasure', '/p/erasure/confirm']) {
        const ended = await postForm(t, path, '', form, 'text/html,application/xhtml+xml');
        expect(ended.status).toBe(401);
        expect(ended.headers.get('content-type')).toContain('text/html');
        expect(await ended.text()).toContain('La sessione è scaduta');
      }
      const endedJson = await postForm(t, '/p/save', '', form, 'application/json');
      expect(endedJson.status).toBe(401);
      expect(endedJson.headers.get('content-type')).toContain('json');
    });

    it('a form with a stale CSRF token gets a page; the hydrated page gets problem details', async () => {
      // The email link opened again (another tab): the first page's token is stale.
      const links = await mintLinks(t, { userId: 'u-stale', language: 'en' });
      const first = await openLink(t, links.preferencesUrl);
      const csrf = await pageCsrf(t, first.cookie);
      const second = await openLink(t, links.preferencesUrl);
      const stale: [string, string][] = [
        ['csrf', csrf],
        ['lang', 'en'],
        ['shown', 'newsletter.email'],
      ];
      const page = await postForm(t, '/p/save', second.cookie, stale, 'text/html,application/xhtml+xml');
      expect(page.status).toBe(403);
      expect(page.headers.get('content-type')).toContain('text/html');
      const html = await page.text();
      expect(html).toContain('This form has expired or comes from another site: reload the page.');
      expect(html).toContain('href="/p?lang=en"');
      const problem = await postForm(t, '/p/save', second.cookie, stale, 'application/json');
      expect(problem.status).toBe(403);
      expect(problem.headers.get('content-type')).toContain('application/problem+json');
      expect(await count(db, 'SELECT 1 FROM receipts WHERE subject_id = $1', [links.subjectId])).toBe(0);
    });

    it('a form field named after a property of every object changes no object but the choices', async () => {
      const links = await mintLinks(t, { userId: 'u-proto', language: 'en' });
      const { cookie } = await openLink(t, links.preferencesUrl);
      const csrf = await pageCsrf(t, cookie);
      try {
        for (const field of ['__proto__.polluted', 'constructor.polluted', 'newsletter.__proto__']) {
          const res = await postForm(
            t,
            '/p/save',
            cookie,
            [
              ['csrf', csrf],
              ['shown', field],
              ['granted', field],
            ],
            'application/json',
          );
          expect([field, res.status]).toEqual([field, 422]);
        }
        // Before: Object.prototype.polluted was true, and every strict schema of the server refused every request.
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
        const health = await t.app.request('/healthz');
        expect(health.status).toBe(200);
        expect(await count(db, 'SELECT 1 FROM receipts WHERE subject_id = $1', [links.subjectId])).toBe(0);
      } finally {
        delete (Object.prototype as Record<string, unknown>).polluted;
        delete (Object as unknown as Record<string, unknown>).polluted;
      }
    });

    it('refuses a body over 64 KiB on every route that reads one, from its length or while it streams', async () => {
      const links = await mintLinks(t, { userId: 'u-big', language: 'en' });
      const unsubscribe = new URL(links.unsubscribeUrl).pathname;
      const padding = 'a'.repeat(70 * 1024);
      // Before: each was read whole, however large, and no session, token or key is needed for the first two.
      const routes: [string, string, string][] = [
        ['/p/save', 'application/x-www-form-urlencoded', `csrf=${padding}`],
        ['/v1/email-link/device', 'application/json', JSON.stringify({ site: 'shop', token: padding })],
        [unsubscribe, 'application/x-www-form-urlencoded', `List-Unsubscribe=One-Click&x=${padding}`],
        ['/v1/admin/links', 'application/json', JSON.stringify({ site: 'shop', userId: padding })],
      ];
      for (const [path, type, body] of routes) {
        const headers = { ...t.adminHeaders, 'Content-Type': type };
        const declared = await t.app.request(path, {
          method: 'POST',
          headers: { ...headers, 'Content-Length': String(body.length) },
          body,
        });
        expect([path, declared.status]).toEqual([path, 413]);
        expect(await declared.json()).toMatchObject({ status: 413, maxBytes: 65_536 });
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(ctrl) {
            sent += 8192;
            if (sent > 1024 * 1024) ctrl.close();
            else ctrl.enqueue(new Uint8Array(8192).fill(97));
          },
        });
        const streamed = await t.app.request(path, {
          method: 'POST',
          headers,
          body: stream,
          duplex: 'half',
        } as RequestInit);
        expect([path, streamed.status]).toEqual([path, 413]);
        expect(sent).toBeLessThan(128 * 1024);
      }
      // Nothing was unsubscribed by the refused one-click POST.
      expect(await count(db, 'SELECT 1 FROM receipts WHERE subject_id = $1', [links.subjectId])).toBe(0);
    });

    it('after one-click unsubscribe and after the erasure is recorded, the title says it is done', async () => {
      const links = await mintLinks(t, { userId: 'u-done', language: 'en' });
      const path = new URL(links.unsubscribeUrl).pathname;
      // "Done" only once it is: the address of the page after the POST, opened first, still asks.
      const early = await (
        await t.app.request(`${path}?done=1`, { headers: { Accept: 'text/html' } })
      ).text();
      expect(early).toContain('<h1>Unsubscribe from Shop &amp; Co?</h1>');
      const ask = await (await t.app.request(`${path}?lang=it`, { headers: { Accept: 'text/html' } })).text();
      expect(ask).toContain(`action="${path}?lang=it"`); // the POST, and the page after it, keep the language
      const res = await t.app.request(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
        body: 'List-Unsubscribe=One-Click',
      });
      // Post/Redirect/Get: a reload of the page after it reads it again, without sending the form again.
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`${path}?done=1&lang=en`);
      const done = await (
        await t.app.request(res.headers.get('location')!, { headers: { Accept: 'text/html' } })
      ).text();
      expect(done).toContain('<title>Unsubscribed from Shop &amp; Co</title>');
      expect(done).toContain('<h1>Unsubscribed from Shop &amp; Co</h1>');
      // In Italian, in words that fit whoever reads them (not a masculine "sei disiscritto").
      expect(ask).toContain('<h1>Annullare l’iscrizione alle comunicazioni di Shop &amp; Co?</h1>');
      const fatto = await (
        await t.app.request(`${path}?done=1&lang=it`, { headers: { Accept: 'text/html' } })
      ).text();
      expect(fatto).toContain('<h1>Iscrizione alle comunicazioni di Shop &amp; Co annullata</h1>');
      expect(fatto).toContain('Fatto: non riceverai più queste comunicazioni.');

      const { cookie } = await openLink(t, links.preferencesUrl);
      const csrf = await pageCsrf(t, cookie);
      const step = await (await postForm(t, '/p/erasure', cookie, [['csrf', csrf]])).text();
      const confirm = /name="confirm" value="([^"]+)"/.exec(step)![1]!;
      expect(step).toContain('name="lang" value="en"');
      const confirmed = await postForm(t, '/p/erasure/confirm', cookie, [
        ['csrf', csrf],
        ['confirm', confirm],
        ['lang', 'it'],
      ]);
      const recorded = await (
        await t.app.request(confirmed.headers.get('location')!, { headers: { Cookie: cookie } })
      ).text();
      expect(recorded).toContain('<title>Richiesta di cancellazione registrata</title>');
      expect(recorded).toContain('<h1>Richiesta di cancellazione registrata</h1>');
    });
  });
});

describe('Italian dates', () => {
  it('elide the article before 8 and 11 (all’8, l’11) and write the first as an ordinal (1º)', () => {
    const m = PAGE_MESSAGES.it;
    const d1 = formatDate(Date.UTC(2027, 2, 1), 'it');
    const d8 = formatDate(Date.UTC(2027, 2, 8), 'it');
    const d11 = formatDate(Date.UTC(2027, 2, 11), 'it');
    const d18 = formatDate(Date.UTC(2027, 2, 18), 'it');
    expect(m.expires(d8)).toBe('Consenso valido fino all’8 marzo 2027');
    expect(m.expires(d18)).toBe('Consenso valido fino al 18 marzo 2027');
    expect(m.expired(d11)).toBe('Consenso scaduto l’11 marzo 2027: vale come un no');
    expect(m.expired(d1)).toBe('Consenso scaduto il 1º marzo 2027: vale come un no');
    expect(m.expires(formatDate(Date.UTC(2027, 2, 21), 'it'))).toBe('Consenso valido fino al 21 marzo 2027');
    expect(formatDate(Date.UTC(2027, 2, 1), 'en')).toBe('1 March 2027');
    expect(m.erasureRecorded(d8)).toMatch(/^Richiesta di cancellazione registrata l’8 marzo 2027\./);
  });
});
