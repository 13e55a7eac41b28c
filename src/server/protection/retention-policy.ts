/**
 * @module
 * The retention policy, set in the server configuration under `retention` (docs/security.md, "Retention").
 * Each kind of data has a number of days after which it is removed (or, for receipts, detached from the
 * person); `null` keeps it. Days count from the moment that makes the data useless, named per kind below.
 */
import * as v from 'valibot';

const days = (fallback: number | null) =>
  v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(36_500))), fallback);

export const RetentionSchema = v.strictObject({
  /** Whether the server runs the policy on its own schedule (`assenso retention run` works either way). */
  enabled: v.optional(v.boolean(), true),
  /** Minutes between scheduled runs. */
  intervalMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_080)), 60),
  /**
   * Receipts are the proof and are never deleted (every leaf of the transparency log must stay). After this
   * many days without any new receipt from a person, their receipts are detached from them (subject cleared);
   * null (default) keeps the link.
   */
  receipts: days(null),
  /** Device links, counted from the device's last activity (13 months by default). */
  deviceLinks: days(395),
  /** Contact data, counted from its last update, once the person has no granted, unexpired preference. */
  contactData: days(1095),
  /** Access log entries, counted from the access (pruned only up to a signed head). */
  accessLog: days(730),
  /** Pairing codes, counted from their expiry. */
  pairingCodes: days(1),
  /** Identity-token replay list entries, counted from the token's expiry. */
  tokenReplay: days(1),
  /** Rate-limit windows, counted from the window's start. */
  rateLimits: days(1),
  /** Preference-page sessions and erasure confirmations, counted from their expiry. */
  sessions: days(1),
  /** Identity audit entries (link, unlink, refused tokens), counted from the event. */
  identityAudit: days(365),
  /** Webhook deliveries that were delivered or gave up, counted from the event. */
  webhookDeliveries: days(30),
  /** The record of retention runs themselves. */
  retentionRuns: days(730),
});

export type RetentionPolicy = v.InferOutput<typeof RetentionSchema>;

/** The kinds the policy names, in the order a run handles them. */
export const RETENTION_KINDS = [
  'receipts',
  'deviceLinks',
  'contactData',
  'accessLog',
  'pairingCodes',
  'tokenReplay',
  'rateLimits',
  'sessions',
  'identityAudit',
  'webhookDeliveries',
  'retentionRuns',
] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];

/** The policy with every default (what a configuration without `retention` gets). */
export function defaultRetentionPolicy(): RetentionPolicy {
  return v.parse(RetentionSchema, {});
}

/** The config entry: `retention` is optional and defaults to the policy above. */
export const RETENTION_CONFIG_ENTRY = v.optional(RetentionSchema, {});
