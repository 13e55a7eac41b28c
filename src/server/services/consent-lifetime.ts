/**
 * @module
 * When each choice of a stored receipt stops counting, in one place (docs/protocol.md, "Expired consent"). A
 * receipt is stored and signed as it was sent (it is evidence), but the expiries it carries are not believed
 * blindly: every consumer of consent (the per-device state, a person's merged consent, the first-party cookie,
 * the email preference state, exports) reads them through `receiptExpiries`, which applies two bounds:
 * - the device clock (device-clock.ts): a lifetime is counted from the receipt's effective time, its
 *   `collectedAt` believed up to the server's `receivedAt` + 60 s, never from a date in the future;
 * - the longest lifetime: a choice counts for at most `MAX_LIFETIME_DAYS` (a category or service: the
 *   widget's own cap) or `MAX_PURPOSE_LIFETIME_DAYS` (a communication preference) after that effective time,
 *   whatever expiry the receipt names. A receipt posted with a 100-year expiry counts for 13 months.
 *
 * @example
 * const e = receiptExpiries(receipt, receivedAt);
 * e.of('category', 'analytics'); // at most boundedAt(collectedAt, receivedAt) + 395 days
 */
import type { Receipt } from '../../protocol/receipt.ts';
import { boundedAt, boundedExpiry } from './device-clock.ts';

const DAY_MS = 86_400_000;

/**
 * Longest a category or service choice counts: 395 days (13 months). The widget's own cap
 * (`MAX_LIFETIME_DAYS` of src/core/config.ts), repeated here because the server imports nothing from the
 * widget's core; test/server/consent-lifetime.test.ts checks that the two agree. Not configurable: the
 * bounded value is stored (`device_consent.expires_at`) and recomputed on reading (merge, exports), and a
 * setting changed in between would make the two disagree.
 */
export const MAX_LIFETIME_DAYS = 395;

/**
 * Longest a communication preference counts: the longest `lifetimeDays` a site may give a purpose
 * (email/config-schema.ts). Email purposes are configured on the server, 730 days by default, so the widget's
 * 13 months does not bound them; this keeps a preference sent with a made-up expiry within what any
 * configuration could have given it.
 */
export const MAX_PURPOSE_LIFETIME_DAYS = 3650;

/** The kind of a choice, as `device_consent` names it. */
export type ChoiceKind = 'category' | 'service' | 'preference';

const maxLifetimeMs = (kind: ChoiceKind) =>
  (kind === 'preference' ? MAX_PURPOSE_LIFETIME_DAYS : MAX_LIFETIME_DAYS) * DAY_MS;

/** A receipt's expiries as they count. */
export interface ReceiptExpiries {
  /**
   * The receipt's `expiresAt`, bounded: by the longest lifetime of its kinds of choice (a receipt holding
   * communication preferences may last as long as they do).
   */
  expiresAt: number;
  /** When a choice stops counting: its own entry in `expiries`, else the receipt's `expiresAt`, bounded. */
  of(kind: ChoiceKind, id: string): number;
}

/**
 * The expiries of `receipt` as the server counts them. With the server's `receivedAt`, its effective time is
 * `collectedAt` bounded by the server clock, and an expiry computed from a clock ahead is moved back by as much
 * (device-clock.ts); without it (a receipt on its own, as the device saw it), its effective time is
 * `collectedAt`. Then no choice counts beyond that time + its kind's longest lifetime. Stored entries are read
 * as they are: a missing `expiresAt` counts as expired, a missing `collectedAt` as `receivedAt`.
 */
export function receiptExpiries(
  receipt: Pick<Receipt, 'collectedAt' | 'expiresAt' | 'expiries' | 'preferences'>,
  receivedAt?: number,
): ReceiptExpiries {
  const collectedAt = typeof receipt.collectedAt === 'number' ? receipt.collectedAt : undefined;
  const at =
    collectedAt === undefined
      ? receivedAt
      : receivedAt === undefined
        ? collectedAt
        : boundedAt(collectedAt, receivedAt);
  const bound = (expiry: number, kind: ChoiceKind) => {
    if (at === undefined) return expiry;
    const moved =
      collectedAt === undefined || receivedAt === undefined
        ? expiry
        : boundedExpiry(expiry, collectedAt, receivedAt);
    return Math.min(moved, at + maxLifetimeMs(kind));
  };
  const expiresAt = bound(receipt.expiresAt ?? 0, receipt.preferences ? 'preference' : 'category');
  return {
    expiresAt,
    of(kind, id) {
      const own = receipt.expiries?.[id];
      if (own !== undefined) return bound(own, kind);
      return at === undefined ? expiresAt : Math.min(expiresAt, at + maxLifetimeMs(kind));
    },
  };
}
