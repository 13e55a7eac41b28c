/**
 * @module
 * Identity linking over HTTP (docs/identity.md): `POST /v1/identify`, `POST /v1/forget`, `POST /v1/pairing`,
 * `POST /v1/pairing/claim`, `GET /v1/devices`, `DELETE /v1/devices/:id`. Parses and maps; the identity
 * service decides. Token failures are 401 with one problem type per reason.
 */
import { type Context, Hono } from 'hono';
import * as v from 'valibot';
import type {
  DevicesResponse,
  ForgetResponse,
  LinkedResponse,
  PairingCodeResponse,
} from '../../protocol/identity.ts';
import { DeviceIdSchema, SiteIdSchema } from '../../protocol/receipt.ts';
import { findSite, type SiteConfig } from '../config.ts';
import type { Pseudonymizer } from '../crypto/pseudonym.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { readJsonBody } from '../http/json-body.ts';
import {
  DeviceNotFound,
  IdentityRateLimited,
  IdentityTokenError,
  PairingCodeError,
} from '../identity/errors.ts';
import { createIdentityService, type IdentityLimits } from '../identity/service.ts';
import { originAllowed } from '../services/origin-policy.ts';

/** Identity bodies are tiny: a token is at most 4 KiB. */
const MAX_IDENTITY_BODY = 8 * 1024;

const DeviceBody = { siteId: SiteIdSchema, deviceId: DeviceIdSchema };
const IdentifySchema = v.strictObject({ ...DeviceBody, token: v.pipe(v.string(), v.maxLength(4096)) });
const DeviceSchema = v.strictObject(DeviceBody);
const ClaimSchema = v.strictObject({ ...DeviceBody, code: v.pipe(v.string(), v.maxLength(32)) });
const QuerySchema = v.object({ site: SiteIdSchema, device: DeviceIdSchema });

export interface IdentityRouteDeps extends AppDeps {
  pseudonymizer: Pseudonymizer;
  identityLimits?: Partial<IdentityLimits>;
}

export function identityRoutes(deps: IdentityRouteDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const identity = createIdentityService({
    db: deps.db,
    now: deps.now,
    pseudonymizer: deps.pseudonymizer,
    identitySecrets: (siteId) => findSite(deps.config, siteId)?.identity?.secrets,
    ...(deps.identityLimits ? { limits: deps.identityLimits } : {}),
  });

  /** Parses the body and checks that the site exists and that the page is one of the site's. */
  async function body<S extends v.GenericSchema<unknown, { siteId: string }>>(
    c: Context<AppEnv, string>,
    schema: S,
  ): Promise<v.InferOutput<S>> {
    const parsed = v.safeParse(schema, await readJsonBody(c, MAX_IDENTITY_BODY));
    if (!parsed.success) throw invalid(parsed.issues, '(body)');
    siteFor(c, parsed.output.siteId);
    return parsed.output;
  }

  function siteFor(c: { req: { header(name: string): string | undefined } }, siteId: string): SiteConfig {
    const site = findSite(deps.config, siteId);
    if (!site) throw new HttpProblem(404, 'unknown-site', `No site ${siteId} on this server`);
    const origin = c.req.header('origin');
    const secFetchSite = c.req.header('sec-fetch-site');
    const from = {
      ...(origin !== undefined ? { origin } : {}),
      ...(secFetchSite !== undefined ? { secFetchSite } : {}),
    };
    if (!originAllowed(site, from)) {
      throw new HttpProblem(
        403,
        'origin-not-allowed',
        `Origin ${origin ?? '(hidden)'} is not a page of ${siteId}`,
      );
    }
    return site;
  }

  function query(c: { req: { query(): Record<string, string> } }) {
    const parsed = v.safeParse(QuerySchema, c.req.query());
    if (!parsed.success) throw invalid(parsed.issues, '(query)');
    return parsed.output;
  }

  const linked = async (siteId: string, deviceId: string, subjectId: string): Promise<LinkedResponse> => ({
    subjectId,
    consent: (await identity.consentFor(siteId, deviceId)) ?? { siteId, deviceId, subjectId, decision: null },
  });

  app.post('/v1/identify', async (c) => {
    const { siteId, deviceId, token } = await body(c, IdentifySchema);
    const userAgent = c.req.header('user-agent');
    const res = await mapErrors(() =>
      identity.identify({ siteId, deviceId, token, ...(userAgent ? { userAgent } : {}) }),
    );
    c.header('Cache-Control', 'no-store');
    return c.json(await linked(siteId, deviceId, res.subjectId));
  });

  app.post('/v1/forget', async (c) => {
    const { siteId, deviceId } = await body(c, DeviceSchema);
    c.header('Cache-Control', 'no-store');
    return c.json((await identity.forget({ siteId, deviceId })) satisfies ForgetResponse);
  });

  app.post('/v1/pairing', async (c) => {
    const { siteId, deviceId } = await body(c, DeviceSchema);
    const res = await mapErrors(() =>
      identity.createPairing({ siteId, deviceId, ip: c.get('clientIp') ?? 'unknown' }),
    );
    c.header('Cache-Control', 'no-store');
    return c.json(res satisfies PairingCodeResponse, 201);
  });

  app.post('/v1/pairing/claim', async (c) => {
    const { siteId, deviceId, code } = await body(c, ClaimSchema);
    const userAgent = c.req.header('user-agent');
    const res = await mapErrors(() =>
      identity.claimPairing({
        siteId,
        deviceId,
        code,
        ip: c.get('clientIp') ?? 'unknown',
        ...(userAgent ? { userAgent } : {}),
      }),
    );
    c.header('Cache-Control', 'no-store');
    return c.json(await linked(siteId, deviceId, res.subjectId));
  });

  app.get('/v1/devices', async (c) => {
    const { site, device } = query(c);
    siteFor(c, site);
    c.header('Cache-Control', 'no-store');
    return c.json((await identity.listDevices(site, device)) satisfies DevicesResponse);
  });

  app.delete('/v1/devices/:id', async (c) => {
    const { site, device } = query(c);
    siteFor(c, site);
    const handle = c.req.param('id');
    if (!/^[0-9a-f]{32}$/.test(handle)) throw new HttpProblem(404, 'not-found', 'No such device');
    await mapErrors(() => identity.unlinkDevice({ siteId: site, deviceId: device, handle }));
    return c.body(null, 204);
  });

  return app;
}

function invalid(issues: readonly v.BaseIssue<unknown>[], where: string): HttpProblem {
  return new HttpProblem(400, 'invalid-request', 'The request does not match the identity API', {
    errors: issues.map((i) => `${v.getDotPath(i) ?? where}: ${i.message}`),
  });
}

/** The one place identity errors become problem details. */
async function mapErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof IdentityTokenError) {
      throw new HttpProblem(
        401,
        err.reason,
        err.message,
        {},
        { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      );
    }
    if (err instanceof PairingCodeError) throw new HttpProblem(404, 'pairing-code-invalid', err.message);
    if (err instanceof DeviceNotFound) throw new HttpProblem(404, 'not-found', 'No such device among yours');
    if (err instanceof IdentityRateLimited) {
      const retryAfter = String(err.retryAfterSeconds);
      throw new HttpProblem(
        429,
        'rate-limited',
        err.message,
        { retryAfter: err.retryAfterSeconds },
        { 'Retry-After': retryAfter },
      );
    }
    throw err;
  }
}
