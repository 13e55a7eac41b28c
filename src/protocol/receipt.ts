import * as v from 'valibot';
import {
  CHANNELS,
  DEVICE_ID_PATTERN,
  ITEM_ID_PATTERN,
  METHODS,
  NOTICE_HASH_PATTERN,
  RECEIPT_ID_PATTERN,
  SITE_ID_PATTERN,
} from './ids.ts';
import { RECEIPT_SCHEMA } from './version.ts';

/**
 * The consent receipt: the proof of one decision, modelled on the Kantara Consent Receipt v1.1 and
 * ISO/IEC TS 27560 records. This schema is the single source: the server validates with it, the widget is
 * typed by it (type-only import: the widget bundle carries no validator), and docs/receipt.schema.json and
 * docs/openapi.json are generated from it (`npm run docs:schema`).
 */

const MAX_ITEMS = 200;
/** Epoch milliseconds between 2020-01-01 and 2200-01-01: rejects seconds-instead-of-ms and garbage clocks. */
const EpochMs = v.pipe(v.number(), v.integer(), v.minValue(1_577_836_800_000), v.maxValue(7_258_118_400_000));
const ItemId = v.pipe(v.string(), v.regex(ITEM_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63}'));
const Choices = v.pipe(
  v.record(ItemId, v.boolean()),
  v.check((r) => Object.keys(r).length <= MAX_ITEMS, `at most ${MAX_ITEMS} entries`),
);

export const ReceiptIdSchema = v.pipe(v.string(), v.regex(RECEIPT_ID_PATTERN, 'must be a UUID (v4 or v7)'));
export const SiteIdSchema = v.pipe(
  v.string(),
  v.regex(SITE_ID_PATTERN, 'must match [a-z0-9][a-z0-9_-]{0,63}'),
);
export const DeviceIdSchema = v.pipe(
  v.string(),
  v.regex(DEVICE_ID_PATTERN, 'must be 32 lower-case hex digits'),
);

export const ReceiptSchema = v.strictObject({
  /** Format version. */
  schema: v.literal(RECEIPT_SCHEMA),
  /** Made on the device (or by the server for server-side decisions): the idempotency key, forever. */
  receiptId: ReceiptIdSchema,
  siteId: SiteIdSchema,
  /** The browser's random 128-bit id; null for decisions made outside a browser (email link, API). */
  deviceId: v.nullable(DeviceIdSchema),
  /** When the decision was made, by the deciding clock (epoch ms). The server's `receivedAt` is the one that counts. */
  collectedAt: EpochMs,
  /** The policy revision the decision answers. */
  revision: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  /** `sha256:<hex>` of the canonical notice that was shown (see notice.ts). */
  noticeHash: v.pipe(v.string(), v.regex(NOTICE_HASH_PATTERN, 'must be sha256:<64 hex digits>')),
  /** BCP 47 tag of the language the notice was shown in. */
  language: v.pipe(
    v.string(),
    v.regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 language tag'),
  ),
  method: v.picklist(METHODS),
  /** Per-category choices: true granted, false denied. */
  categories: Choices,
  /** Per-service choices inside the categories. */
  services: Choices,
  /** Communication preferences: purpose → channel → granted. */
  preferences: v.optional(v.record(ItemId, v.pipe(v.record(v.picklist(CHANNELS), v.boolean())))),
  /** Earliest moment at which any part of this decision must be asked again (epoch ms). */
  expiresAt: EpochMs,
  /**
   * Each choice's expiry (epoch ms), by category, service or purpose id: the widget records one for every choice
   * (a service its category's, a required category the decision's latest). A choice without one lasts until
   * `expiresAt` (older receipts have none for services nor for the required category).
   */
  expiries: v.optional(v.record(ItemId, EpochMs)),
  /** The previous receipt of the same device (or subject), to chain a person's history. */
  previousReceiptId: v.nullable(ReceiptIdSchema),
  /**
   * Whether Global Privacy Control applied when the decision was made: the browser sent it AND the site's
   * configuration honours it (widget option `gpc`, default on). A signal the configuration ignores reads false.
   * The first-party cookie's `g` says the same.
   */
  gpc: v.optional(v.boolean()),
  /**
   * Who a decision made outside a browser (email link, API) is for, signed with it: `sha256:` of
   * `<salt>:<subjectId>`, the salt (random, per receipt) kept beside the receipt on the server until retention
   * detaches the receipt from the person. Set by the server only; a device that sends one is refused.
   */
  subjectCommitment: v.optional(
    v.pipe(v.string(), v.regex(NOTICE_HASH_PATTERN, 'must be sha256:<64 hex digits>')),
  ),
});

export type Receipt = v.InferOutput<typeof ReceiptSchema>;

/** Validates one receipt; returns the issues as `path: message` strings, or the typed receipt. */
export function parseReceipt(
  input: unknown,
): { ok: true; receipt: Receipt } | { ok: false; errors: string[] } {
  const result = v.safeParse(ReceiptSchema, input);
  if (result.success) return { ok: true, receipt: result.output };
  return {
    ok: false,
    errors: result.issues.map((i) => `${v.getDotPath(i) ?? '(receipt)'}: ${i.message}`),
  };
}
