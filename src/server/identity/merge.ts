/**
 * @module
 * The subject's current consent, derived from the receipts of all its devices (and any server-side receipts
 * made for it, such as email links).
 *
 * The rule (docs/identity.md): per category and per service, the choice of the receipt with the newest server
 * `receivedAt` wins; when two receipts have the same `receivedAt`, the one whose `receiptId` sorts last wins
 * (UUIDv7 ids sort by creation time; for any ids the order is fixed, so every instance and every replay of
 * the same receipts gives the same answer, in whatever order they arrived).
 */
import type { ConsentStateResponse } from '../../protocol/api.ts';
import type { Receipt } from '../../protocol/receipt.ts';

/** One stored receipt as the merge needs it. */
export interface SubjectReceipt {
  receipt: Receipt;
  receivedAt: number;
}

export type MergedDecision = NonNullable<ConsentStateResponse['decision']>;

/** Whether `a` is newer than `b` by the rule above. */
export function isNewer(a: SubjectReceipt, b: SubjectReceipt): boolean {
  if (a.receivedAt !== b.receivedAt) return a.receivedAt > b.receivedAt;
  return a.receipt.receiptId > b.receipt.receiptId;
}

/**
 * Merges receipts (in any order) into the subject's decision; null when there is none.
 * `updatedAt` gives, per category, the server time of the receipt its choice came from. The decision's
 * revision, method and times are those of the newest receipt; `expiresAt` is the earliest expiry among the
 * receipts that still contribute a choice, so the banner returns as soon as any part of the decision expires;
 * `expiries` gives each choice's own. Grants are reported as decided: the expiry rule is applied by the caller
 * (services/consent-expiry.ts), which knows the time.
 */
export function mergeSubjectConsent(receipts: readonly SubjectReceipt[]): MergedDecision | null {
  if (receipts.length === 0) return null;
  const sorted = [...receipts].sort((a, b) => (isNewer(a, b) ? 1 : isNewer(b, a) ? -1 : 0));
  const categories: Record<string, boolean> = {};
  const services: Record<string, boolean> = {};
  const updatedAt: Record<string, number> = {};
  const categoryFrom = new Map<string, SubjectReceipt>();
  const serviceFrom = new Map<string, SubjectReceipt>();
  // Oldest first: each newer receipt overwrites the choices it carries.
  for (const r of sorted) {
    for (const [id, granted] of Object.entries(r.receipt.categories)) {
      categories[id] = granted;
      updatedAt[id] = r.receivedAt;
      categoryFrom.set(id, r);
    }
    for (const [id, granted] of Object.entries(r.receipt.services)) {
      services[id] = granted;
      serviceFrom.set(id, r);
    }
  }
  const newest = sorted[sorted.length - 1] as SubjectReceipt;
  const contributing = new Set([...categoryFrom.values(), ...serviceFrom.values()]);
  const expiresAt = Math.min(...[...contributing].map((r) => r.receipt.expiresAt), newest.receipt.expiresAt);
  // Each choice lasts as its receipt says: a category its own lifetime, a service the receipt's.
  const expiries: Record<string, number> = {};
  for (const [id, r] of categoryFrom) expiries[id] = r.receipt.expiries?.[id] ?? r.receipt.expiresAt;
  for (const [id, r] of serviceFrom) expiries[id] = r.receipt.expiresAt;
  return {
    revision: newest.receipt.revision,
    method: newest.receipt.method,
    receiptId: newest.receipt.receiptId,
    decidedAt: newest.receipt.collectedAt,
    receivedAt: newest.receivedAt,
    expiresAt,
    categories: sortKeys(categories),
    services: sortKeys(services),
    updatedAt: sortKeys(updatedAt),
    expiries: sortKeys(expiries),
  };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
