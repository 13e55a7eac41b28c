/**
 * @module
 * `GET /v1/consent?site=&device=`: the latest decision the server knows for a device, merged per category and
 * service (the device's newest choice wins, when made under the revision of its latest receipt). A grant past
 * its expiry reads as denied, listed in `expired` with its time (services/consent-expiry.ts; docs/protocol.md).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { ConsentStateResponse } from '../../protocol/api.ts';
import { DeviceIdSchema, SiteIdSchema } from '../../protocol/receipt.ts';
import { findSite } from '../config.ts';
import { deviceChoices } from '../db/receipts-repo.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { subjectConsent } from '../identity/subject-consent.ts';
import { effectiveDecision } from '../services/consent-expiry.ts';
import { decisionOf } from '../services/device-choices.ts';

const QuerySchema = v.object({ site: SiteIdSchema, device: DeviceIdSchema });

export function consentRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/v1/consent', async (c) => {
    const query = v.safeParse(QuerySchema, c.req.query());
    if (!query.success)
      throw new HttpProblem(400, 'invalid-request', 'Expected ?site=<site id>&device=<device id>', {
        errors: query.issues.map((i) => `${v.getDotPath(i) ?? '(query)'}: ${i.message}`),
      });
    const { site, device } = query.output;
    if (!findSite(deps.config, site))
      throw new HttpProblem(404, 'unknown-site', `No site ${site} on this server`);
    // A device linked to a subject answers with the subject's consent, merged over all its devices.
    const linked = await subjectConsent(deps.db, site, device, deps.now());
    if (linked) {
      c.header('Cache-Control', 'no-store');
      return c.json(linked satisfies ConsentStateResponse);
    }
    const latest = decisionOf(await deviceChoices(deps.db, site, device));
    const decision = latest && effectiveDecision(latest, latest.expiries ?? {}, deps.now());
    // Not linked (any more): no subject, even if its older receipts were made while it was linked.
    c.header('Cache-Control', 'no-store');
    return c.json({
      siteId: site,
      deviceId: device,
      subjectId: null,
      decision,
    } satisfies ConsentStateResponse);
  });
  return app;
}
