import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsentStateResponse } from '../../../src/protocol/api.ts';
import type { DevicesResponse, LinkedResponse, PairingCodeResponse } from '../../../src/protocol/identity.ts';
import { PROBLEM_TYPES } from '../../../src/protocol/problem.ts';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { signIdentity } from '../../../src/server/identity-token.ts';
import { databases } from '../../helpers/databases.ts';
import { buildApp, makeReceipt, postReceipts, SHOP, SHOP_ORIGIN, testConfig } from '../helpers.ts';
import { claims, craftToken, KID, PSEUDONYM_SECRET, SECRET } from './fixtures.ts';

const device = () => randomBytes(16).toString('hex');
const PHONE_UA =
  'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';

describe.each(databases)('identity HTTP API on $name', (d) => {
  describe.skipIf(!d.available)('routes', () => {
    let db: Db & { drop(): Promise<void> };
    let built: ReturnType<typeof buildApp>;
    const p = createPseudonymizer(PSEUDONYM_SECRET);

    beforeAll(async () => {
      db = await d.create();
      const config = testConfig();
      const shop = config.sites.find((s) => s.id === SHOP);
      if (shop) shop.identity = { secrets: { [KID]: SECRET } };
      built = buildApp(db, { config, pseudonymizer: p });
    }, 180_000);
    afterAll(() => db.drop());

    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      built.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN, ...headers },
        body: JSON.stringify(body),
      });
    const get = (path: string) => built.app.request(path, { headers: { origin: SHOP_ORIGIN } });
    const token = (userId: string) =>
      signIdentity({ secret: SECRET, kid: KID, siteId: SHOP, userId, now: built.deps.now });
    const consent = async (dev: string) =>
      (await (await get(`/v1/consent?site=${SHOP}&device=${dev}`)).json()) as ConsentStateResponse;
    const decide = async (dev: string, categories: Record<string, boolean>) => {
      const res = await postReceipts(
        built.app,
        { receipts: [makeReceipt(SHOP, { deviceId: dev, categories, services: {} })] },
        { origin: SHOP_ORIGIN },
      );
      expect(res.status).toBe(200);
      built.advance(1000);
    };

    it('identify links the device and answers with the subject consent; CORS allows the site', async () => {
      const dev = device();
      await decide(dev, { necessary: true, analytics: true });
      const res = await post('/v1/identify', { siteId: SHOP, deviceId: dev, token: token('anna') });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
      const body = (await res.json()) as LinkedResponse;
      expect(body.subjectId).toBe(p.subjectId(SHOP, 'anna'));
      expect(body.consent.decision?.categories).toEqual({ analytics: true, necessary: true });
      const preflight = await built.app.request('/v1/devices/x', {
        method: 'OPTIONS',
        headers: { origin: SHOP_ORIGIN, 'access-control-request-method': 'DELETE' },
      });
      expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
    });

    it.each([
      [
        'token-algorithm',
        () => craftToken({ alg: 'none', kid: KID }, claims(Date.now(), { aud: SHOP }), SECRET, ''),
      ],
      ['token-unknown-key', () => craftToken({ alg: 'HS256', kid: 'k9' }, claims(Date.now(), { aud: SHOP }))],
      [
        'token-bad-signature',
        () => craftToken({ alg: 'HS256', kid: KID }, claims(Date.now(), { aud: SHOP }), `${SECRET}?`),
      ],
      [
        'token-wrong-audience',
        () => craftToken({ alg: 'HS256', kid: KID }, claims(Date.now(), { aud: 'blog' })),
      ],
      [
        'token-expired',
        () => craftToken({ alg: 'HS256', kid: KID }, claims(Date.now() - 7_200_000, { aud: SHOP })),
      ],
      [
        'token-lifetime',
        () =>
          craftToken(
            { alg: 'HS256', kid: KID },
            claims(Date.now(), { aud: SHOP, exp: Math.floor(Date.now() / 1000) + 3600 }),
          ),
      ],
      ['token-malformed', () => 'nope'],
    ])('%s is a 401 problem of its own type; the device stays unlinked', async (reason, make) => {
      const dev = device();
      const res = await post('/v1/identify', { siteId: SHOP, deviceId: dev, token: make() });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { type: string }).type).toBe(
        PROBLEM_TYPES[reason as keyof typeof PROBLEM_TYPES],
      );
      expect((await consent(dev)).subjectId).toBeNull();
      const { rows } = await db.query('SELECT reason FROM identity_audit WHERE device_id = $1', [dev]);
      expect(rows).toEqual([{ reason }]);
    });

    it('a replayed token is a 401 token-replayed', async () => {
      const t = token('bea');
      expect((await post('/v1/identify', { siteId: SHOP, deviceId: device(), token: t })).status).toBe(200);
      const res = await post('/v1/identify', { siteId: SHOP, deviceId: device(), token: t });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { type: string }).type).toBe(PROBLEM_TYPES['token-replayed']);
    });

    it('GET /v1/consent answers for the subject: the newest decision by server time wins per category', async () => {
      const [desk, phone] = [device(), device()];
      await post('/v1/identify', { siteId: SHOP, deviceId: desk, token: token('cleo') });
      await post('/v1/identify', { siteId: SHOP, deviceId: phone, token: token('cleo') });
      await decide(phone, { necessary: true, analytics: true, marketing: true });
      // A desktop decision made offline long ago arrives now: it is newer on the server clock, so it wins.
      const stale = makeReceipt(SHOP, {
        deviceId: desk,
        collectedAt: Date.now() - 86_400_000,
        categories: { necessary: true, marketing: false },
        services: {},
      });
      await postReceipts(built.app, { receipts: [stale] }, { origin: SHOP_ORIGIN });
      for (const dev of [desk, phone]) {
        const state = await consent(dev);
        expect(state.subjectId).toBe(p.subjectId(SHOP, 'cleo'));
        expect(state.decision?.categories).toEqual({ analytics: true, marketing: false, necessary: true });
        expect(state.decision?.receiptId).toBe(stale.receiptId);
      }
    });

    it('forget unlinks: the device answers for itself again', async () => {
      const [a, b] = [device(), device()];
      await post('/v1/identify', { siteId: SHOP, deviceId: a, token: token('dora') });
      await post('/v1/identify', { siteId: SHOP, deviceId: b, token: token('dora') });
      await decide(b, { analytics: true });
      expect((await consent(a)).decision?.categories).toEqual({ analytics: true });
      expect(await (await post('/v1/forget', { siteId: SHOP, deviceId: a })).json()).toEqual({
        unlinked: true,
      });
      expect(await consent(a)).toMatchObject({ subjectId: null, decision: null });
    });

    it('a device unlinked after deciding while linked answers with its own decision and no subject', async () => {
      const [a, b] = [device(), device()];
      await post('/v1/identify', { siteId: SHOP, deviceId: a, token: token('emil') });
      await post('/v1/identify', { siteId: SHOP, deviceId: b, token: token('emil') });
      await decide(a, { analytics: true, marketing: false });
      await decide(b, { marketing: true });
      expect(await consent(a)).toMatchObject({ subjectId: p.subjectId(SHOP, 'emil') });
      await post('/v1/forget', { siteId: SHOP, deviceId: a });
      const state = await consent(a);
      // Its receipt was made while linked, but the device is not linked any more: no subject in the answer.
      expect(state.subjectId).toBeNull();
      expect(state.decision?.categories).toEqual({ analytics: true, marketing: false });
    });

    it('pairing: code, claim, devices list, unlink, all over HTTP', async () => {
      const [pc, phone] = [device(), device()];
      const created = await post('/v1/pairing', { siteId: SHOP, deviceId: pc });
      expect(created.status).toBe(201);
      const { code } = (await created.json()) as PairingCodeResponse;
      const claimed = await post(
        '/v1/pairing/claim',
        { siteId: SHOP, deviceId: phone, code },
        { 'user-agent': PHONE_UA },
      );
      expect(claimed.status).toBe(200);
      const { subjectId } = (await claimed.json()) as LinkedResponse;
      const again = await post('/v1/pairing/claim', { siteId: SHOP, deviceId: device(), code });
      expect(again.status).toBe(404);
      expect(((await again.json()) as { type: string }).type).toBe(PROBLEM_TYPES['pairing-code-invalid']);

      const list = (await (await get(`/v1/devices?site=${SHOP}&device=${pc}`)).json()) as DevicesResponse;
      expect(list.subjectId).toBe(subjectId);
      expect(list.devices.map((x) => x.browser).sort()).toEqual(['Browser', 'Chrome · Android']);
      const phoneEntry = list.devices.find((x) => !x.current);
      const del = await built.app.request(`/v1/devices/${phoneEntry?.id}?site=${SHOP}&device=${pc}`, {
        method: 'DELETE',
        headers: { origin: SHOP_ORIGIN },
      });
      expect(del.status).toBe(204);
      const after = (await (await get(`/v1/devices?site=${SHOP}&device=${phone}`)).json()) as DevicesResponse;
      expect(after).toEqual({ subjectId: null, devices: [] });
      const missing = await built.app.request(`/v1/devices/${'0'.repeat(32)}?site=${SHOP}&device=${pc}`, {
        method: 'DELETE',
        headers: { origin: SHOP_ORIGIN },
      });
      expect(missing.status).toBe(404);
    });

    it('refuses other origins, unknown sites and bad bodies', async () => {
      const dev = device();
      const foreign = await post(
        '/v1/forget',
        { siteId: SHOP, deviceId: dev },
        { origin: 'https://evil.example' },
      );
      expect(foreign.status).toBe(403);
      expect((await post('/v1/pairing', { siteId: 'nosuch', deviceId: dev })).status).toBe(404);
      const bad = await post('/v1/identify', { siteId: SHOP, deviceId: 'not-hex', token: 'x' });
      expect(bad.status).toBe(400);
      expect((await get(`/v1/devices?site=${SHOP}`)).status).toBe(400);
    });
  });
});
