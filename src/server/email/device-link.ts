/**
 * @module
 * A preference link opened on the site itself (`?assenso=<token>`): the widget exchanges the token for a link of
 * its device to the token's subject, through the identity tables (identity/links-repo.ts), as `identify` does.
 * Only a `preferences` token of the same site links a device; the audit entry says it came from an email link.
 */
import type { Db } from '../db/db.ts';
import { browserFamily } from '../identity/browser.ts';
import { writeAudit } from '../identity/guard-repo.ts';
import { attachReceipts, findLink, lockDevices, upsertLink } from '../identity/links-repo.ts';
import type { LinkTokens } from './tokens.ts';

export interface DeviceLinkResult {
  linked: true;
  /** The device was linked to another person before. */
  moved: boolean;
  /** Earlier receipts of the device attached to the person's history. */
  attached: number;
}

/** Links `deviceId` to the subject of a preference token of `siteId`; token failures throw LinkTokenError. */
export async function linkDeviceByToken(
  deps: { db: Db; tokens: LinkTokens; now: () => number },
  req: { siteId: string; deviceId: string; token: string; userAgent?: string },
): Promise<DeviceLinkResult> {
  const claims = deps.tokens.verify(req.token, { action: 'preferences', siteId: req.siteId });
  return deps.db.transaction(async (tx) => {
    await lockDevices(tx, req.siteId, [req.deviceId]);
    const before = await findLink(tx, req.siteId, req.deviceId);
    const t = deps.now();
    await upsertLink(tx, {
      siteId: req.siteId,
      deviceId: req.deviceId,
      subjectId: claims.subjectId,
      via: 'token',
      browser: browserFamily(req.userAgent),
      linkedAt: t,
      now: t,
    });
    const attached = await attachReceipts(tx, req.siteId, req.deviceId, claims.subjectId);
    const moved = before !== undefined && before.subjectId !== claims.subjectId;
    await writeAudit(tx, {
      at: t,
      siteId: req.siteId,
      deviceId: req.deviceId,
      subjectId: claims.subjectId,
      action: 'identify',
      outcome: 'ok',
      reason: moved ? 'email-link moved' : 'email-link',
    });
    return { linked: true, moved, attached };
  });
}
