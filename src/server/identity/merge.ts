/**
 * @module
 * The subject's current consent, derived from the receipts of all its devices (server-side receipts made for
 * it, such as email links, hold communication preferences only and are no part of it).
 *
 * The rule (docs/identity.md): per category and per service, the choice of the newest receipt wins (and counts
 * when made under the policy revision of the newest receipt, see `mergeSubjectConsent`), where
 * - a receipt that names another as its `previousReceiptId` (the same device's decision right before it) is
 *   newer than that one, whenever either reached the server;
 * - otherwise the newest server `receivedAt` is newer; when two receipts have the same `receivedAt`, the one
 *   whose `receiptId` sorts last (for any ids the order is fixed).
 * Concretely, receipts are taken newest first: the next is the newest by server time among those that no
 * receipt still waiting follows. A receipt that reached the server after the one that follows it (it was
 * late) so takes its place right before it, never after. The order depends only on the set of receipts, so
 * every instance and every replay gives the same answer, in whatever order they arrived; the device clock
 * (`collectedAt`) is never used to order.
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';
import { receiptExpiries } from '../services/consent-lifetime.ts';

/** One stored receipt as the merge needs it. */
export interface SubjectReceipt {
  receipt: Receipt;
  receivedAt: number;
}

export type MergedDecision = NonNullable<ConsentStateResponse['decision']>;

/** Whether `a` is newer than `b` by server time alone (the rule above without the chain). */
export function isNewer(a: SubjectReceipt, b: SubjectReceipt): boolean {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt > b.receivedAt;
  return a.receipt.receiptId > b.receipt.receiptId;
}

/** The receipts oldest first by the rule above. */
export function subjectOrder(receipts: readonly SubjectReceipt[]): SubjectReceipt[] {
  const newestFirst = [...receipts].sort((a, b) => (isNewer(a, b) ? -1 : isNewer(b, a) ? 1 : 0));
  const ids = new Set(newestFirst.map((r) => r.receipt.receiptId));
  /** The receipt of the set that `r` follows, if any. */
  const follows = (r: SubjectReceipt) => {
    const prev = r.receipt.previousReceiptId;
    return prev !== null && prev !== r.receipt.receiptId && ids.has(prev) ? prev : null;
  };
  // Per receipt id: how many receipts that follow it are not taken yet.
  const followers = new Map<string, number>();
  for (const r of newestFirst) {
    const prev = follows(r);
    if (prev) followers.set(prev, (followers.get(prev) ?? 0) + 1);
  }
  const waits = (r: SubjectReceipt) => (followers.get(r.receipt.receiptId) ?? 0) > 0;
  const taken = newestFirst.map(() => false);
  const out: SubjectReceipt[] = [];
  let first = 0;
  while (out.length < newestFirst.length) {
    while (taken[first]) first++;
    let k = first;
    // The newest not taken that nothing waiting follows: found at once when the chain agrees with server time.
    while (k < newestFirst.length && (taken[k] || waits(newestFirst[k] as SubjectReceipt))) k++;
    // Every receipt left waits for another: the rest of a forged cycle of ids. Server time decides.
    if (k === newestFirst.length) k = first;
    const r = newestFirst[k] as SubjectReceipt;
    taken[k] = true;
    out.push(r);
    const prev = follows(r);
    if (prev) followers.set(prev, (followers.get(prev) as number) - 1);
  }
  return out.reverse();
}

/**
 * Merges receipts (in any order) into the subject's decision; null when there is none.
 *
 * The decision answers the widget's notice, so it is made of the receipts made in a browser (a device id):
 * receipts made elsewhere (email links, docs/email.md) record communication preferences only, under the email
 * pages' own revision. The decision's revision, method and times are those of the newest of them. Per category
 * and per service the newest choice is taken, and it counts only when made under that revision: a choice made
 * under another one answers a notice the site no longer shows, so it is left out (neither granted nor refused:
 * the widget asks about it again), as for one device (services/device-choices.ts).
 *
 * `updatedAt` gives, per category, the server time of the receipt its choice came from; `expiries` gives each
 * choice's own expiry (its receipt's entry for it, else that receipt's `expiresAt`, as the server counts them:
 * services/consent-lifetime.ts), and `expiresAt` is the earliest of them and the newest receipt's, so the banner
 * returns as soon as any part of the decision expires.
 * Grants are reported as decided: the expiry rule is applied by the caller (services/consent-expiry.ts), which
 * knows the time.
 */
export function mergeSubjectConsent(receipts: readonly SubjectReceipt[]): MergedDecision | null {
  const sorted = subjectOrder(receipts).filter((r) => r.receipt.deviceId !== null);
  const newest = sorted[sorted.length - 1];
  if (!newest) return null;
  const categoryFrom = new Map<string, SubjectReceipt>();
  const serviceFrom = new Map<string, SubjectReceipt>();
  // Oldest first: each newer receipt overwrites the choices it carries.
  for (const r of sorted) {
    for (const id of Object.keys(r.receipt.categories)) categoryFrom.set(id, r);
    for (const id of Object.keys(r.receipt.services)) serviceFrom.set(id, r);
  }
  const counts = (r: SubjectReceipt) => r.receipt.revision === newest.receipt.revision;
  // Each choice lasts as its receipt says, counted from the server's time when the device clock was ahead of it,
  // and never beyond the longest lifetime (services/consent-lifetime.ts).
  const expiriesOf = (r: SubjectReceipt) => receiptExpiries(r.receipt, r.receivedAt);
  const categories: Record<string, boolean> = {};
  const services: Record<string, boolean> = {};
  const updatedAt: Record<string, number> = {};
  const expiries: Record<string, number> = {};
  for (const [id, r] of categoryFrom) {
    if (!counts(r)) continue;
    categories[id] = r.receipt.categories[id] as boolean;
    updatedAt[id] = r.receivedAt;
    expiries[id] = expiriesOf(r).of('category', id);
  }
  for (const [id, r] of serviceFrom) {
    if (!counts(r)) continue;
    services[id] = r.receipt.services[id] as boolean;
    expiries[id] = expiriesOf(r).of('service', id);
  }
  return {
    revision: newest.receipt.revision,
    method: newest.receipt.method,
    receiptId: newest.receipt.receiptId,
    decidedAt: newest.receipt.collectedAt,
    receivedAt: newest.receivedAt,
    expiresAt: Math.min(expiriesOf(newest).expiresAt, ...Object.values(expiries)),
    categories: sortKeys(categories),
    services: sortKeys(services),
    updatedAt: sortKeys(updatedAt),
    expiries: sortKeys(expiries),
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
