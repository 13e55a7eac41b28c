/**
 * @module
 * `GET /v1/consent` for a linked device: the subject's consent (merge.ts) instead of the device's own, with
 * expired grants counted as denied.
 * A function of the database alone, so the consent route can call it without the identity service.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Queryable } from '../db/db.ts';
import { effectiveDecision } from '../services/consent-expiry.ts';
import { subjectReceipts } from './consent-repo.ts';
import { findLink, touchLink } from './links-repo.ts';
import { mergeSubjectConsent } from './merge.ts';

/**
 * The subject's consent when the device is linked (and marks the device seen); null when it is not linked.
 * Grants past their expiry at `now` read as denied (services/consent-expiry.ts).
 */
export async function subjectConsent(
  db: Queryable,
  siteId: string,
  deviceId: string,
  now: number,
): Promise<ConsentStateResponse | null> {
  const link = await findLink(db, siteId, deviceId);
  if (!link) return null;
  await touchLink(db, siteId, deviceId, now);
  const merged = mergeSubjectConsent(await subjectReceipts(db, siteId, link.subjectId));
  const decision = merged && effectiveDecision(merged, merged.expiries ?? {}, now);
  return { siteId, deviceId, subjectId: link.subjectId, decision };
}
