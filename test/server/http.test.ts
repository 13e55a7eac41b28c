import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/protocol/canonical.ts';
import { PROBLEM_TYPES } from '../../src/protocol/problem.ts';
import type { Db } from '../../src/server/db/db.ts';
import { createRateLimitRepo } from '../../src/server/db/rate-limit-repo.ts';
import { verifyWithPublicKey } from '../../src/server/log/keys.ts';
import { databases } from '../helpers/databases.ts';
import {
  BLOG_ORIGIN,
  buildApp,
  DB_START_TIMEOUT,
  makeReceipt,
  postReceipts,
  SHOP_ORIGIN,
  testConfig,
} from './helpers.ts';

describe.each(databases)('HTTP surface on $name', (d) => {
  describe.skipIf(!d.available)('app', () => {
    let db: Db & { drop(): Promise<void> };
    // PGlite starts in seconds, or in minutes on a loaded machine: give creating and migrating it time.
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    describe('CORS', () => {
      it('answers a preflight from a configured origin by echoing it, never *', async () => {
        const { app } = buildApp(db);
        const res = await app.request('/v1/receipts', {
          method: 'OPTIONS',
          headers: {
            origin: BLOG_ORIGIN,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe(BLOG_ORIGIN);
        expect(res.headers.get('access-control-allow-methods')).toContain('POST');
        expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
        expect(res.headers.get('vary')).toContain('Origin');
      });

      it.each(['https://evil.example', 'null'])(
        'refuses a preflight from %s without CORS headers',
        async (origin) => {
          const { app } = buildApp(db);
          const res = await app.request('/v1/receipts', {
            method: 'OPTIONS',
            headers: { origin, 'access-control-request-method': 'POST' },
          });
          expect(res.status).toBe(403);
          expect(res.headers.get('access-control-allow-origin')).toBeNull();
          expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['origin-not-allowed'] });
        },
      );

      it('echoes the allowed origin on answers, errors included, with Vary: Origin', async () => {
        const { app } = buildApp(db);
        const ok = await postReceipts(app, { receipts: [makeReceipt()] });
        expect(ok.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
        expect(ok.headers.get('vary')).toContain('Origin');
        const bad = await postReceipts(app, '{', { origin: SHOP_ORIGIN });
        expect(bad.status).toBe(400);
        expect(bad.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
        const none = await app.request('/v1/keys');
        expect(none.headers.get('access-control-allow-origin')).toBeNull();
        expect(none.headers.get('vary')).toContain('Origin');
      });
    });

    it('answers unknown paths 404 and wrong methods 405 (with Allow) as problem+json', async () => {
      const { app } = buildApp(db);
      const missing = await app.request('/v1/nothing');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      expect(await missing.json()).toMatchObject({
        type: PROBLEM_TYPES['not-found'],
        status: 404,
        instance: '/v1/nothing',
      });
      const wrong = await app.request('/v1/receipts', { method: 'DELETE' });
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('POST');
      expect(await wrong.json()).toMatchObject({ type: PROBLEM_TYPES['method-not-allowed'], status: 405 });
    });

    it('answers wrong methods 405 with rate limits on too (the default)', async () => {
      const { app } = buildApp(db, {
        config: testConfig({ rateLimit: { windowSeconds: 60, receipts: 100, reads: 100 } }),
      });
      for (const [path, method, allow] of [
        ['/v1/receipts', 'PUT', 'POST'],
        ['/v1/receipts', 'GET', 'POST'],
        ['/v1/keys', 'DELETE', 'GET, HEAD'],
      ] as const) {
        const res = await app.request(path, { method });
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.get('allow')).toBe(allow);
      }
      expect((await app.request('/v1/nothing')).status).toBe(404);
    });

    it('sends security headers', async () => {
      const { app } = buildApp(db, { config: testConfig({ publicUrl: 'https://consent.example' }) });
      const res = await app.request('/v1/keys');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('sends every middleware header on a receipts answer too (built without a Headers object)', async () => {
      const { app } = buildApp(db, {
        config: testConfig({
          publicUrl: 'https://consent.example',
          rateLimit: { windowSeconds: 60, receipts: 100, reads: 100 },
        }),
      });
      const res = await postReceipts(
        app,
        { receipts: [makeReceipt()] },
        { headers: { 'x-request-id': 'req-1' } },
      );
      expect(res.status).toBe(200);
      expect(Object.fromEntries(res.headers)).toMatchObject({
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'x-frame-options': 'DENY',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-resource-policy': 'same-site',
        'strict-transport-security': 'max-age=31536000',
        'access-control-allow-origin': SHOP_ORIGIN,
        'access-control-expose-headers': 'Retry-After, ETag',
        vary: 'Origin',
        'x-request-id': 'req-1',
      });
      expect(res.headers.get('ratelimit-policy')).toBe('100;w=60');
    });

    it('limits requests per client with 429 and Retry-After; instances share their counts through the database', async () => {
      const config = testConfig({
        rateLimit: { windowSeconds: 60, receipts: 3, reads: 100 },
        trustProxy: true,
      });
      // Two app instances on one database, as two servers behind a load balancer.
      const one = buildApp(db, { config });
      const two = buildApp(db, { config });
      const client = `198.51.100.${Math.floor(Math.random() * 250)}`;
      const headers = { 'x-forwarded-for': client };
      const post = async (app: typeof one.app) =>
        (await postReceipts(app, { receipts: [makeReceipt()] }, { headers })).status;
      const sharedHits = async () =>
        Number(
          (
            await db.query<{ hits: number }>('SELECT sum(hits) AS hits FROM rate_limits WHERE key = $1', [
              `receipts:${client}`,
            ])
          ).rows[0]?.hits ?? 0,
        );
      const untilShared = async (hits: number) => {
        for (let i = 0; i < 100 && (await sharedHits()) < hits; i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(await sharedHits()).toBe(hits);
      };
      // One instance counts exactly, in memory.
      expect([await post(one.app), await post(one.app), await post(one.app), await post(one.app)]).toEqual([
        200, 200, 200, 429,
      ]);
      // Within a second it adds its hits to the shared table. The other instance learns the total when it adds
      // its own: its first request still passes (the documented overshoot), the next is refused.
      await untilShared(4);
      expect(await post(two.app)).toBe(200);
      await untilShared(5);
      expect(await post(two.app)).toBe(429);
      const limited = await postReceipts(one.app, { receipts: [makeReceipt()] }, { headers });
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
      expect(await limited.json()).toMatchObject({
        type: PROBLEM_TYPES['rate-limited'],
        status: 429,
        retryAfter,
      });
      // Another client is not affected; the same client is served again in the next window.
      const other = await postReceipts(
        one.app,
        { receipts: [makeReceipt()] },
        { headers: { 'x-forwarded-for': '203.0.113.9' } },
      );
      expect(other.status).toBe(200);
      one.advance(retryAfter * 1000);
      expect((await postReceipts(one.app, { receipts: [makeReceipt()] }, { headers })).status).toBe(200);
    });

    it('counts hits made while a sync is on its way, and loses none when a sync fails', async () => {
      const repo = createRateLimitRepo(db, { syncMs: 60_000 });
      const key = `test:${Math.random()}`;
      const window = 1_000 * Math.floor(Date.now() / 1000);
      expect([await repo.hit(key, window), await repo.hit(key, window)]).toEqual([1, 2]);
      const syncing = repo.sync();
      expect(await repo.hit(key, window)).toBe(3);
      await syncing;
      expect(await repo.hit(key, window)).toBe(4);
      const failing = createRateLimitRepo(
        {
          query: async () => {
            throw new Error('database down');
          },
        },
        { syncMs: 60_000 },
      );
      await failing.hit(key, window);
      await expect(failing.sync()).rejects.toThrow('database down');
      expect(await failing.hit(key, window)).toBe(2);
      await repo.sync();
      const stored = await db.query<{ hits: number }>('SELECT hits FROM rate_limits WHERE key = $1', [key]);
      expect(stored.rows.map((r) => Number(r.hits))).toEqual([4]);
    });

    it('reports health 200 when the database answers and 503 when it does not', async () => {
      const { app } = buildApp(db);
      const ok = await app.request('/healthz');
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ok', driver: d.name });
      const broken: Db = { ...db, query: () => Promise.reject(new Error('connection refused')) };
      const down = await buildApp(broken).app.request('/healthz');
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ type: PROBLEM_TYPES.unavailable });
    });

    it('logs each request at info, and errors, with the request id; nothing below the level', async () => {
      const lines: Record<string, unknown>[] = [];
      const logger = (level: string) =>
        pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
      const broken: Db = { ...db, query: () => Promise.reject(new Error('connection refused')) };
      const info = buildApp(broken, { logger: logger('info') }).app;
      await info.request('/healthz', { headers: { 'x-request-id': 'req-7' } });
      expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
        ['health check: database unreachable', 'req-7'],
        ['request', 'req-7'],
      ]);
      expect(lines[1]).toMatchObject({ method: 'GET', route: '/healthz', status: 503 });
      lines.length = 0;
      const warn = buildApp(broken, { logger: logger('warn') }).app;
      await warn.request('/healthz', { headers: { 'x-request-id': 'req-8' } });
      await warn.request('/v1/keys', { headers: { 'x-request-id': 'req-9' } });
      expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
        ['health check: database unreachable', 'req-8'],
      ]);
    });

    it('exposes Prometheus metrics: requests by route and status, receipts by outcome, latency', async () => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      await postReceipts(app, { receipts: [receipt] });
      await postReceipts(app, { receipts: [receipt, { bad: true }] });
      await app.request('/nowhere');
      const res = await app.request('/metrics');
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(text).toContain(
        'assenso_http_requests_total{method="POST",route="/v1/receipts",status="200"} 2',
      );
      expect(text).toContain('assenso_http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect(text).toContain('assenso_receipts_total{outcome="stored"} 1');
      expect(text).toContain('assenso_receipts_total{outcome="duplicate"} 1');
      expect(text).toContain('assenso_receipts_total{outcome="rejected"} 1');
      expect(text).toMatch(
        /assenso_http_request_duration_seconds_bucket\{route="\/v1\/receipts",le="\+Inf"\} 2/,
      );
      expect(text).toMatch(/# TYPE assenso_http_request_duration_seconds histogram/);
    });

    it('publishes the signing keys at /v1/keys, and they verify the signatures it returns', async () => {
      const { app } = buildApp(db);
      const { keys } = (await (await app.request('/v1/keys')).json()) as {
        keys: { kid: string; publicKey: string; alg: string }[];
      };
      expect(keys[0]?.alg).toBe('Ed25519');
      const body = await (await postReceipts(app, { receipts: [makeReceipt()] })).json();
      const signed = body.results[0].signed;
      const entry = new TextEncoder().encode(
        canonicalJson({ receipt: signed.receipt, receivedAt: signed.receivedAt }),
      );
      const key = keys.find((k) => k.kid === signed.signature.kid);
      expect(key && verifyWithPublicKey(key.publicKey, entry, signed.signature.sig)).toBe(true);
    });
  });
});
