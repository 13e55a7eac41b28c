import type { NoticeSnapshot } from '../protocol/notice.ts';
import { noticeHash } from '../protocol/notice.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../protocol/version.ts';
import { noticeOf } from './notice.ts';
import type { Decision, ResolvedConfig } from './types.ts';
import { bare } from './decision.ts';

/**
 * The notice when the UI supplies none (decisions through the API before the UI is shown): the configured
 * categories and services in the configured language, with no banner texts.
 */
export const defaultNotice = (cfg: ResolvedConfig): NoticeSnapshot => noticeOf(cfg);

/**
 * What the decision records as chosen, with every choice's expiry, so that a receipt server applies the
 * widget's rule: an optional category its own; a service its category's, or its own (one allowed on its own in
 * a category that decision does not answer; without one: the decision's `expiresAt`); a required category, and
 * its services, the decision's last (it is asked with the others). A category asked again and not answered
 * (kept in the decision, with an expiry not after it, only for the banner: decision.ts) is left out, with its
 * services not chosen on their own: the visitor did not choose it now.
 */
function recorded(d: Decision, notice: NoticeSnapshot) {
  const categories = bare(d.categories);
  const services = bare(d.services);
  const expiries = bare(d.expiries);
  const last = Math.max(d.expiresAt, ...Object.values(d.expiries));
  for (const c of notice.categories) {
    const asked = expiries[c.id]! <= d.decidedAt;
    if (asked) {
      delete categories[c.id];
      delete expiries[c.id];
    }
    if (c.required && c.id in categories) expiries[c.id] = last;
    for (const s of c.services)
      if (s.id in expiries) continue;
      else if (asked) delete services[s.id];
      else if (s.id in services) expiries[s.id] = expiries[c.id] ?? d.expiresAt;
  }
  return { categories, services, expiries };
}

/** The protocol receipt that proves a decision (see src/protocol/receipt.ts). */
export async function buildReceipt(
  d: Decision,
  siteId: string,
  notice: NoticeSnapshot,
  previousReceiptId: string | null,
): Promise<Receipt> {
  return {
    schema: RECEIPT_SCHEMA,
    receiptId: d.receiptId,
    siteId,
    deviceId: d.deviceId,
    collectedAt: d.decidedAt,
    revision: d.revision,
    noticeHash: await noticeHash(notice),
    language: notice.language,
    method: d.method,
    ...recorded(d, notice),
    expiresAt: d.expiresAt,
    previousReceiptId,
    gpc: d.gpc,
  };
}
