import { canonicalJson, sha256Hex } from './canonical.ts';

/**
 * Exactly what a visitor was shown when deciding: the notice. Its canonical SHA-256 is the receipt's
 * `noticeHash`, so the proof survives later edits of the configuration. The widget builds it from the
 * texts it rendered, in the language it rendered them in.
 */
export interface NoticeSnapshot {
  siteId: string;
  revision: string;
  language: string;
  /** Every text of the banner and preference center, by message key, as rendered. */
  texts: Record<string, string>;
  categories: NoticeCategory[];
  /** Communication purposes shown (email preference page), if any. */
  purposes?: NoticePurpose[];
}

export interface NoticeCategory {
  id: string;
  title: string;
  description: string;
  required: boolean;
  /** Lifetime of a grant of this category, in days. */
  lifetimeDays: number;
  services: NoticeService[];
}

export interface NoticeService {
  id: string;
  name: string;
  provider?: string;
  purpose?: string;
  privacyUrl?: string;
  cookies: { name: string; duration?: string; purpose?: string }[];
}

export interface NoticePurpose {
  id: string;
  title: string;
  description: string;
  channels: string[];
  lifetimeDays: number;
}

/** `sha256:<hex>` of the canonical JSON of a notice. */
export async function noticeHash(notice: NoticeSnapshot): Promise<string> {
  return `sha256:${await sha256Hex(canonicalJson(notice))}`;
}
