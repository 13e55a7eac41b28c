/**
 * @module
 * Per-site configuration of communication preferences, email links and webhooks. `config.ts` spreads
 * `EMAIL_SITE_ENTRIES` into its site schema, so these keys sit on each site:
 *
 * ```json
 * { "id": "shop", "origins": ["https://shop.example"],
 *   "channels": ["email", "sms"],
 *   "purposes": [{ "id": "newsletter", "title": { "it": "Newsletter", "en": "Newsletter" },
 *                  "description": { "en": "News once a month" }, "channels": ["email"], "lifetimeDays": 730 }],
 *   "emailLinks": { "language": "it", "preferencesTtlDays": 60, "unsubscribeTtlDays": 365 },
 *   "webhooks": [{ "url": "https://crm.example/hooks/assenso", "secret": "…32+ characters…" }] }
 * ```
 */
import * as v from 'valibot';
import { CHANNELS, ITEM_ID_PATTERN } from '../../protocol/ids.ts';
import { MAX_PURPOSE_LIFETIME_DAYS } from '../services/consent-lifetime.ts';

/** Languages the hosted pages speak. */
export const PAGE_LANGUAGES = ['it', 'en'] as const;
export type PageLanguage = (typeof PAGE_LANGUAGES)[number];

const ItemId = v.pipe(v.string(), v.regex(ITEM_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63}'));
const Text = v.pipe(v.string(), v.minLength(1), v.maxLength(2000));
/** A text in one language for all, or per language (`{ "it": "…", "en": "…" }`). */
const LocalizedText = v.union([Text, v.record(v.picklist(PAGE_LANGUAGES), Text)]);
const Channel = v.picklist(CHANNELS);

const PurposeSchema = v.strictObject({
  id: ItemId,
  title: LocalizedText,
  description: v.optional(LocalizedText),
  /** Channels this purpose may use (a subset of the site's `channels`). */
  channels: v.pipe(v.array(Channel), v.minLength(1)),
  /** How long a grant lasts, in days: then it counts as denied until renewed. */
  lifetimeDays: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_PURPOSE_LIFETIME_DAYS)),
    730,
  ),
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

const WebhookSchema = v.pipe(
  v.strictObject({
    url: v.pipe(v.string(), v.url('must be an absolute URL')),
    /** HMAC-SHA256 key of the `Assenso-Signature` header: at least 32 characters. */
    secret: v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters')),
    /** Development and tests only: accept `http://` to a loopback host. */
    allowHttpLoopback: v.optional(v.boolean(), false),
  }),
  v.check((w) => {
    const url = new URL(w.url);
    return (
      url.protocol === 'https:' ||
      (w.allowHttpLoopback && url.protocol === 'http:' && LOOPBACK.has(url.hostname))
    );
  }, 'must be https:// (http:// only to 127.0.0.1/localhost with allowHttpLoopback: true)'),
);

const EmailLinksSchema = v.strictObject({
  /** Language of the pages when neither the link nor the browser says otherwise. */
  language: v.optional(v.picklist(PAGE_LANGUAGES), 'en'),
  /** Lifetime of a preference-center link, in days. */
  preferencesTtlDays: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(3650)), 60),
  /** Lifetime of a one-click unsubscribe link, in days: RFC 8058 links must keep working, so at least 60. */
  unsubscribeTtlDays: v.optional(v.pipe(v.number(), v.integer(), v.minValue(60), v.maxValue(3650)), 365),
  /** Policy revision that email-link receipts answer. */
  revision: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64)), '1'),
  /** Optional `mailto:` address added to List-Unsubscribe. */
  mailto: v.optional(v.pipe(v.string(), v.email())),
});

/** Keys added to each site of the server configuration. */
export const EMAIL_SITE_ENTRIES = {
  /** Channels the site communicates on; purposes may use only these. Default: every channel a purpose names. */
  channels: v.optional(v.pipe(v.array(Channel), v.minLength(1))),
  /** Communication purposes a person decides on, per channel (email preferences). */
  purposes: v.optional(
    v.pipe(
      v.array(PurposeSchema),
      v.check((ps) => new Set(ps.map((p) => p.id)).size === ps.length, 'purpose ids must be unique'),
    ),
    [],
  ),
  /** Email-link settings: page language, link lifetimes, revision. */
  emailLinks: v.optional(EmailLinksSchema, {}),
  /** HTTPS endpoints that receive every consent change of a person, signed and in order. */
  webhooks: v.optional(v.array(WebhookSchema), []),
};

export type PurposeConfig = v.InferOutput<typeof PurposeSchema>;
export type WebhookConfig = v.InferOutput<typeof WebhookSchema>;
export type EmailLinksConfig = v.InferOutput<typeof EmailLinksSchema>;

/** The settings the email services read from a site (a structural subset of SiteConfig). */
export interface EmailSite {
  id: string;
  name?: string | undefined;
  channels?: readonly string[] | undefined;
  purposes: PurposeConfig[];
  emailLinks: EmailLinksConfig;
  webhooks: WebhookConfig[];
}

/** A localized text in the wanted language, falling back to the other one. */
export function localize(
  text: string | Partial<Record<PageLanguage, string>> | undefined,
  lang: PageLanguage,
): string {
  if (text === undefined) return '';
  if (typeof text === 'string') return text;
  return text[lang] ?? text.en ?? text.it ?? '';
}

/** The channels a purpose is offered on: its own, limited to the site's `channels` when declared. */
export function purposeChannels(site: EmailSite, purpose: PurposeConfig): string[] {
  return site.channels ? purpose.channels.filter((c) => site.channels!.includes(c)) : [...purpose.channels];
}
