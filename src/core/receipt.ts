import type { NoticeSnapshot } from '../protocol/notice.ts';
import { noticeHash } from '../protocol/notice.ts';
import type { Receipt } from '../protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../protocol/version.ts';
import type { Decision, Localized, ResolvedConfig } from './types.ts';

const pick = (t: Localized | undefined, lang: string) =>
  t === undefined ? undefined : typeof t === 'string' ? t : (t[lang] ?? Object.values(t)[0] ?? '');

/**
 * The notice when the UI supplies none (decisions through the API before the UI is shown): the configured
 * categories and services in the configured language, with no banner texts.
 */
export function defaultNotice(cfg: ResolvedConfig): NoticeSnapshot {
  const lang = cfg.language ?? cfg.languages[0] ?? 'en';
  return {
    siteId: cfg.siteId,
    revision: cfg.revision,
    language: lang,
    texts: {},
    categories: cfg.categories.map((c) => ({
      id: c.id,
      title: pick(c.title, lang)!,
      description: pick(c.description, lang)!,
      required: c.required,
      lifetimeDays: c.lifetimeDays,
      services: c.services.map((s) => ({
        id: s.id,
        name: s.name,
        provider: s.provider,
        purpose: pick(s.purpose, lang),
        privacyUrl: s.privacyUrl,
        cookies: s.cookies.map((k) => ({
          name: k.name,
          duration: pick(k.duration, lang),
          purpose: pick(k.purpose, lang),
        })),
      })),
    })),
  };
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
    expiries: d.expiries,
    previousReceiptId,
    gpc: d.gpc,
  };
}
