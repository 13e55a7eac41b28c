import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { HttpProblem, problemResponse } from '../../../src/server/errors.ts';
import {
  type AdminEnv,
  adminActor,
  assertSiteAccess,
  requireRole,
} from '../../../src/server/protection/admin-auth.ts';
import {
  type AdminKeys,
  createAdminKeys,
  UnknownAdminKeyError,
} from '../../../src/server/protection/admin-keys.ts';
import { databases } from '../../helpers/databases.ts';

function buildApp(adminKeys: AdminKeys) {
  const app = new Hono<AdminEnv>();
  app.onError((err, c) => (err instanceof HttpProblem ? problemResponse(c, err) : c.text('boom', 500)));
  // What the app's `observe` middleware does (with trustProxy): the client IP for the access log.
  app.use('*', async (c, next) => {
    (c as unknown as { set(k: string, v: string): void }).set(
      'clientIp',
      c.req.header('x-test-client-ip') ?? '',
    );
    await next();
  });
  app.get('/any', requireRole({ adminKeys }), (c) => c.json(adminActor(c)));
  app.get('/contacts', requireRole({ adminKeys }, 'admin', 'operator'), (c) => c.json(c.get('admin')));
  app.get('/proofs', requireRole({ adminKeys }, 'admin', 'auditor'), (c) => {
    const site = assertSiteAccess(c.get('admin'), c.req.query('site'));
    return c.json({ site });
  });
  app.get('/only-admin', requireRole({ adminKeys }, 'admin'), (c) => c.json({ ok: true }));
  return app;
}

const auth = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

describe.each(databases)('admin keys and roles on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Db & { drop(): Promise<void> };
    let keys: AdminKeys;
    let app: ReturnType<typeof buildApp>;
    const clock = 1_700_000_000_000;
    beforeEach(async () => {
      db = await d.create();
      keys = createAdminKeys({ db, now: () => clock });
      app = buildApp(keys);
    });
    afterEach(async () => db.drop());

    it('creates keys shown once and stores only the hash of the secret', async () => {
      const k = await keys.create({ role: 'operator', siteId: 'shop', label: 'support desk' });
      expect(k.token).toMatch(/^ask_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      const secret = k.token.slice(`ask_${k.keyId}_`.length);
      const { rows } = await db.query<Record<string, unknown>>('SELECT * FROM admin_keys');
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect((await keys.list()).map((x) => [x.keyId, x.role, x.siteId, x.label])).toEqual([
        [k.keyId, 'operator', 'shop', 'support desk'],
      ]);
    });

    it('answers 401 problem+json for a missing, malformed, unknown, wrong or revoked key', async () => {
      const k = await keys.create({ role: 'admin' });
      const wrongSecret = `${k.token.slice(0, -3)}${k.token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
      const unknown = `ask_0123456789abcdef_${'x'.repeat(43)}`;
      const cases: Array<Record<string, string>> = [
        {},
        { Authorization: 'Basic Zm9vOmJhcg==' },
        { Authorization: 'Bearer nonsense' },
        { Authorization: `Bearer ${unknown}` },
        { Authorization: `Bearer ${wrongSecret}` },
      ];
      for (const headers of cases) {
        const res = await app.request('/any', { headers });
        expect(res.status, JSON.stringify(headers)).toBe(401);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect((await res.json()).type).toBe('https://assenso.dev/problems/unauthorized');
      }
      expect((await app.request('/any', auth(k.token))).status).toBe(200);
      await keys.revoke(k.keyId);
      expect((await app.request('/any', auth(k.token))).status).toBe(401);
      expect((await keys.list())[0]?.revokedAt).toBe(clock);
      await expect(keys.revoke('ffffffffffffffff')).rejects.toBeInstanceOf(UnknownAdminKeyError);
    });

    it("admits each role to its own calls and answers 403 to the others'", async () => {
      const admin = await keys.create({ role: 'admin' });
      const operator = await keys.create({ role: 'operator' });
      const auditor = await keys.create({ role: 'auditor' });
      const expected: Array<[string, string, number]> = [
        [admin.token, '/contacts', 200],
        [admin.token, '/proofs?site=shop', 200],
        [admin.token, '/only-admin', 200],
        [operator.token, '/contacts', 200],
        [operator.token, '/proofs?site=shop', 403],
        [operator.token, '/only-admin', 403],
        [auditor.token, '/contacts', 403],
        [auditor.token, '/proofs?site=shop', 200],
        [auditor.token, '/only-admin', 403],
      ];
      for (const [token, path, status] of expected) {
        const res = await app.request(path, auth(token));
        expect(`${path} ${res.status}`).toBe(`${path} ${status}`);
        if (status === 403) {
          expect(res.headers.get('content-type')).toBe('application/problem+json');
          expect((await res.json()).type).toBe('https://assenso.dev/problems/forbidden');
        }
      }
    });

    it('puts the principal and the request origin on the context', async () => {
      const k = await keys.create({ role: 'auditor', siteId: 'shop' });
      const res = await app.request('/any', {
        headers: {
          Authorization: `Bearer ${k.token}`,
          'User-Agent': 'curl/8',
          'X-Test-Client-Ip': '203.0.113.9',
        },
      });
      expect(await res.json()).toEqual({
        keyId: k.keyId,
        role: 'auditor',
        siteId: 'shop',
        ip: '203.0.113.9',
        userAgent: 'curl/8',
      });
      const [info] = await keys.list();
      expect(info?.lastUsedAt).toBe(clock);
    });

    it('keeps a site-scoped key to its site', async () => {
      const scoped = await keys.create({ role: 'auditor', siteId: 'shop' });
      const global = await keys.create({ role: 'auditor' });
      expect(await (await app.request('/proofs?site=shop', auth(scoped.token))).json()).toEqual({
        site: 'shop',
      });
      expect(await (await app.request('/proofs', auth(scoped.token))).json()).toEqual({ site: 'shop' });
      expect((await app.request('/proofs?site=blog', auth(scoped.token))).status).toBe(403);
      expect((await app.request('/proofs?site=blog', auth(global.token))).status).toBe(200);
      expect((await app.request('/proofs', auth(global.token))).status).toBe(400);
    });
  });
});
