/**
 * @module
 * The expiry rule, in one place (docs/protocol.md, "Expired consent"): a grant whose expiry has passed counts
 * as denied everywhere the server answers with consent (GET /v1/consent, identify, the email preference
 * state, webhooks) and is flagged as expired with its time, so a site can tell "expired: ask again" from
 * "refused". Stored receipts are evidence and are never rewritten: exports add the effective state beside the
 * original (`receiptEffect`).
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import { type ChoiceKind, receiptExpiries } from './consent-lifetime.ts';

type StateDecision = NonNullable<ConsentStateResponse['decision']>;

/** `choices` with every grant expired by `now` turned to false; `expired` collects id → when it expired. */
function deny(
  choices: Record<string, boolean>,
  expiryOf: (id: string) => number,
  now: number,
  expired: Record<string, number>,
): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [id, granted] of Object.entries(choices)) {
    const at = expiryOf(id);
    out[id] = granted && at > now;
    if (granted && at <= now) expired[id] = at;
  }
  return out;
}

/**
 * A decision of GET /v1/consent as it applies at `now`: `expiries` gives each choice's expiry (by category or
 * service id; the decision's `expiresAt` for any it lacks); expired grants read false and are listed in
 * `expired`; `expiresAt` becomes the earliest of them all (the moment the widget must ask again).
 */
export function effectiveDecision(
  d: StateDecision,
  expiries: Record<string, number>,
  now: number,
): StateDecision {
  const expiryOf = (id: string) => expiries[id] ?? d.expiresAt;
  const expired: Record<string, number> = {};
  const out: StateDecision = {
    ...d,
    categories: deny(d.categories, expiryOf, now, expired),
    services: deny(d.services, expiryOf, now, expired),
    expiresAt: Math.min(d.expiresAt, ...Object.values(expiries)),
    expiries,
  };
  if (Object.keys(expired).length > 0) out.expired = expired;
  return out;
}

/** What a stored receipt still grants at `asOf`: added next to the receipt in exports, never in place of it. */
export interface ReceiptEffect {
  /** The time this was computed for (the export's time). */
  asOf: number;
  /** The receipt's `expiresAt` (its earliest expiry) has passed: at least one of its grants is expired. */
  expired: boolean;
  categories: Record<string, boolean>;
  services: Record<string, boolean>;
  /** Communication preferences (purpose → channel), when the receipt carries them. */
  preferences?: Record<string, Record<string, boolean>>;
  /** Grants that have expired, by category, service or `purpose.channel`: when. */
  expiredAt: Record<string, number>;
}

/**
 * The receipt's choices as they apply at `asOf` by the expiry rule: a category, service or purpose lasts until
 * its `expiries` entry, else the receipt's `expiresAt` (receipts made before the widget recorded every choice's
 * expiry have none for services nor for the required category); with the server's `receivedAt`, each counted
 * from it when the device clock was ahead, and never beyond the longest lifetime (consent-lifetime.ts). This is
 * the receipt taken alone; a later receipt of the same device or person may have replaced it since.
 */
export function receiptEffect(r: Receipt, asOf: number, receivedAt?: number): ReceiptEffect {
  const expiredAt: Record<string, number> = {};
  // Stored entries are read as they are: a field missing from an old or foreign one grants nothing.
  const expiry = receiptExpiries(r, receivedAt);
  const own = (kind: ChoiceKind) => (id: string) => expiry.of(kind, id);
  const out: ReceiptEffect = {
    asOf,
    expired: expiry.expiresAt <= asOf,
    categories: deny(r.categories ?? {}, own('category'), asOf, expiredAt),
    services: deny(r.services ?? {}, own('service'), asOf, expiredAt),
    expiredAt,
  };
  if (r.preferences) {
    const preferences: Record<string, Record<string, boolean>> = {};
    for (const [purpose, channels] of Object.entries(r.preferences)) {
      const lapsed: Record<string, number> = {};
      preferences[purpose] = deny(channels, () => expiry.of('preference', purpose), asOf, lapsed);
      for (const [channel, at] of Object.entries(lapsed)) expiredAt[`${purpose}.${channel}`] = at;
    }
    out.preferences = preferences;
  }
  return out;
}
