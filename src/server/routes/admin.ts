/**
 * @module
 * Admin API of the protection layer (roles, access log, per-person export). Every answer that carries a
 * person's data is recorded in the access log before it is sent; every answer is `Cache-Control: no-store`.
 *
 * | route                                          | admin | operator        | auditor |
 * | ---------------------------------------------- | ----- | --------------- | ------- |
 * | GET /v1/admin/whoami                           | ✓     | ✓               | ✓       |
 * | GET /v1/admin/subjects/:subject/contacts       | ✓     | ✓ masked        | 403     |
 * | GET /v1/admin/subjects/:subject/receipts       | ✓     | ✓               | ✓       |
 * | GET /v1/admin/subjects/:subject/export         | ✓     | 403             | 403     |
 * | GET /v1/admin/access-log                       | ✓     | 403             | 403     |
 * | GET /v1/admin/access-log/verify                | ✓     | 403             | ✓       |
 * | GET /v1/admin/contact-keys                     | ✓     | 403             | ✓       |
 * | GET /v1/admin/retention/runs                   | ✓     | 403             | ✓       |
 *
 * A key scoped to one site sees only that site (`?site=` defaults to it; another site is 403).
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { type AdminEnv, adminActor, assertSiteAccess, requireRole } from '../protection/admin-auth.ts';
import { maskContact } from '../protection/contact-store.ts';
import { contactKeyCounts } from '../protection/key-rotation.ts';
import type { Protection } from '../protection/protection.ts';
import { listRetentionRuns } from '../protection/retention.ts';

type Env = { Variables: AppEnv['Variables'] & AdminEnv['Variables'] };

const SUBJECT = /^[A-Za-z0-9_-]{1,128}$/;

/** Epoch ms from `1700000000000` or an ISO 8601 date; 400 naming the parameter otherwise. */
function timeParam(c: Context, name: string): number | undefined {
  const text = c.req.query(name);
  if (text === undefined || text === '') return undefined;
  const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(t))
    throw new HttpProblem(400, 'invalid-request', `"${name}" must be epoch ms or an ISO 8601 date`);
  return t;
}

function intParam(c: Context, name: string): number | undefined {
  const text = c.req.query(name);
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,15}$/.test(text))
    throw new HttpProblem(400, 'invalid-request', `"${name}" must be a whole number`);
  return Number(text);
}

function subjectParam(c: Context): string {
  const subject = c.req.param('subject') ?? '';
  if (!SUBJECT.test(subject)) throw new HttpProblem(400, 'invalid-request', 'malformed subject id');
  return subject;
}

/** The admin routes; mounted only when the server has its protection services (`deps.protection`). */
export function adminRoutes(deps: AppDeps & { protection: Protection }): Hono<Env> {
  const { protection } = deps;
  const { adminKeys, accessLog } = protection;
  const app = new Hono<Env>();
  const role = (...roles: Parameters<typeof requireRole>[1][]) => requireRole({ adminKeys }, ...roles);

  app.use('/v1/admin/*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  app.get('/v1/admin/whoami', role(), (c) => c.json(c.get('admin')));

  app.get('/v1/admin/subjects/:subject/contacts', role('admin', 'operator'), async (c) => {
    const admin = c.get('admin');
    const siteId = assertSiteAccess(admin, c.req.query('site'));
    const subjectId = subjectParam(c);
    const masked = admin.role !== 'admin';
    await accessLog.append({
      actor: adminActor(c),
      action: 'contacts.read',
      siteId,
      subjectId,
      detail: { masked },
    });
    const stored = protection.contacts ? await protection.contacts.listForSubject(siteId, subjectId) : [];
    const contacts = stored.map(({ kind, value, keyId: _kid, ...rest }) => ({
      kind,
      value: value !== null && masked ? maskContact(kind, value) : value,
      ...rest,
    }));
    return c.json({ siteId, subjectId, masked, contacts });
  });

  app.get('/v1/admin/subjects/:subject/receipts', role('admin', 'operator', 'auditor'), async (c) => {
    const siteId = assertSiteAccess(c.get('admin'), c.req.query('site'));
    const subjectId = subjectParam(c);
    await accessLog.append({ actor: adminActor(c), action: 'receipts.read', siteId, subjectId });
    const doc = await protection.exportSubject(siteId, subjectId, 'none');
    return c.json({ siteId, subjectId, devices: doc.devices, receipts: doc.receipts });
  });

  app.get('/v1/admin/subjects/:subject/export', role('admin'), async (c) => {
    const siteId = assertSiteAccess(c.get('admin'), c.req.query('site'));
    const subjectId = subjectParam(c);
    await accessLog.append({ actor: adminActor(c), action: 'subject.export', siteId, subjectId });
    const doc = await protection.exportSubject(siteId, subjectId, 'plain');
    c.header(
      'Content-Disposition',
      `attachment; filename="assenso-${siteId}-${subjectId.slice(0, 24)}.json"`,
    );
    return c.json(doc);
  });

  app.get('/v1/admin/access-log', role('admin'), async (c) => {
    const admin = c.get('admin');
    const site = c.req.query('site');
    const siteId = site || admin.siteId ? assertSiteAccess(admin, site) : undefined;
    const subject = c.req.query('subject');
    if (subject !== undefined && !SUBJECT.test(subject))
      throw new HttpProblem(400, 'invalid-request', 'malformed subject id');
    const query = {
      ...(subject ? { subjectId: subject } : {}),
      ...(siteId ? { siteId } : {}),
      from: timeParam(c, 'from'),
      to: timeParam(c, 'to'),
      afterSeq: intParam(c, 'after'),
      limit: intParam(c, 'limit'),
    };
    // Reading the log is itself an access to who-read-whom: it is recorded too.
    await accessLog.append({
      actor: adminActor(c),
      action: 'access-log.query',
      siteId: siteId ?? null,
      subjectId: subject ?? null,
      detail: JSON.parse(JSON.stringify({ from: query.from, to: query.to })),
    });
    const entries = await accessLog.query(query);
    const last = entries[entries.length - 1];
    return c.json({ entries, next: last && entries.length === (query.limit ?? 100) ? last.seq : null });
  });

  app.get('/v1/admin/access-log/verify', role('admin', 'auditor'), async (c) =>
    c.json(await accessLog.verify()),
  );

  app.get('/v1/admin/contact-keys', role('admin', 'auditor'), async (c) => {
    if (!protection.contactCrypto) return c.json({ configured: false, keys: [] });
    return c.json({
      configured: true,
      current: protection.contactCrypto.currentKid,
      keys: await contactKeyCounts(deps.db, protection.contactCrypto, protection.contactKeys?.retired ?? []),
    });
  });

  app.get('/v1/admin/retention/runs', role('admin', 'auditor'), async (c) =>
    c.json({ runs: await listRetentionRuns(deps.db, intParam(c, 'limit') ?? 20) }),
  );

  return app;
}
