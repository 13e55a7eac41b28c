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
    expiries: d.expiries,
    previousReceiptId,
    gpc: d.gpc,
  };
}
