import type { NoticeSnapshot } from '../protocol/notice.ts';
import { noticeHash } from '../protocol/notice.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../protocol/version.ts';
import { noticeOf } from './notice.ts';
import type { Decision, ResolvedConfig } from './types.ts';

/**
 * The notice when the UI supplies none (decisions through the API before the UI is shown): the configured
 * categories and services in the configured language, with no banner texts.
 */
export const defaultNotice = (cfg: ResolvedConfig): NoticeSnapshot => noticeOf(cfg);

/**
 * Every recorded choice's expiry, so that a receipt server applies the widget's rule: an optional category its
 * own; a service its category's (one allowed on its own in a category never answered: the decision's
 * `expiresAt`); a required category, and its services, the decision's last (it is asked with the others).
 */
function expiriesOf(d: Decision, notice: NoticeSnapshot): Record<string, number> {
  const out = { ...d.expiries };
  const last = Math.max(d.expiresAt, ...Object.values(d.expiries));
  for (const c of notice.categories) {
    if (c.required && c.id in d.categories) out[c.id] = last;
    for (const s of c.services) if (s.id in d.services) out[s.id] = out[c.id] ?? d.expiresAt;
  }
  return out;
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
    categories: d.categories,
    services: d.services,
    expiresAt: d.expiresAt,
    expiries: expiriesOf(d, notice),
    previousReceiptId,
    gpc: d.gpc,
  };
}
