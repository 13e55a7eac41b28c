import { describe, expect, it } from 'vitest';
import { mergeSubjectConsent } from '../../../src/server/identity/merge.ts';
import { CLOCK_TOLERANCE_MS } from '../../../src/server/services/device-clock.ts';
import { receipt, T0 } from './fixtures.ts';

const at = (receivedAt: number, over: Parameters<typeof receipt>[0]) => ({
  receipt: receipt(over),
  receivedAt,
});

describe('subject consent merge', () => {
  it('is null without receipts', () => {
    expect(mergeSubjectConsent([])).toBeNull();
  });

  it('gives the same answer in every arrival order', () => {
    const rs = [
      at(T0 + 1, { categories: { a: true, b: true }, services: { s1: true } }),
      at(T0 + 2, { categories: { b: false } }),
      at(T0 + 3, { categories: { c: true }, services: { s1: false } }),
    ];
    const orders = [rs, [...rs].reverse(), [rs[1], rs[2], rs[0]], [rs[2], rs[0], rs[1]]] as (typeof rs)[];
    const results = orders.map((o) => mergeSubjectConsent(o));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]?.categories).toEqual({ a: true, b: false, c: true });
    expect(results[0]?.services).toEqual({ s1: false });
    expect(results[0]?.updatedAt).toEqual({ a: T0 + 1, b: T0 + 2, c: T0 + 3 });
    expect(results[0]?.receiptId).toBe(rs[2]?.receipt.receiptId);
  });

  it('breaks a tie of server times by the receipt id that sorts last', () => {
    const low = at(T0, { receiptId: '00000000-0000-4000-8000-000000000001', categories: { a: false } });
    const high = at(T0, { receiptId: 'ffffffff-0000-4000-8000-000000000001', categories: { a: true } });
    expect(mergeSubjectConsent([high, low])?.categories.a).toBe(true);
    expect(mergeSubjectConsent([low, high])?.categories.a).toBe(true);
  });

  it('uses server time, not the device clock', () => {
    const skewed = at(T0 + 5, { collectedAt: T0 - 86_400_000, categories: { a: true } });
    const honest = at(T0 + 1, { collectedAt: T0 + 86_400_000, categories: { a: false } });
    expect(mergeSubjectConsent([honest, skewed])?.categories.a).toBe(true);
  });

  it('expires as soon as any contributing receipt expires', () => {
    const early = at(T0 + 1, { categories: { a: true }, expiresAt: T0 + 1000 });
    const late = at(T0 + 2, { categories: { b: true }, expiresAt: T0 + 9000 });
    const shadowed = at(T0, { categories: { b: false }, expiresAt: T0 + 10 });
    expect(mergeSubjectConsent([early, late, shadowed])?.expiresAt).toBe(T0 + 1000);
  });

  it("orders one device's receipts by their chain, not by their ids", () => {
    // One batch (same server time); the first was made with a clock 2 h fast, so its UUIDv7 sorts last.
    const first = at(T0, {
      receiptId: 'ffffffff-0000-7000-8000-000000000001',
      collectedAt: T0 + 7_200_000,
      categories: { a: true },
    });
    const next = at(T0, {
      receiptId: '00000000-0000-7000-8000-000000000001',
      deviceId: first.receipt.deviceId,
      previousReceiptId: first.receipt.receiptId,
      categories: { a: false },
    });
    for (const order of [
      [first, next],
      [next, first],
    ]) {
      const merged = mergeSubjectConsent(order);
      expect(merged?.receiptId).toBe(next.receipt.receiptId);
      expect(merged?.categories.a).toBe(false);
    }
  });

  it('never lets a receipt that reached the server after the one that follows it replace it', () => {
    const late = at(T0 + 5, { categories: { a: true, b: true } });
    const follower = at(T0 + 1, {
      deviceId: late.receipt.deviceId,
      previousReceiptId: late.receipt.receiptId,
      categories: { a: false },
    });
    // Another device of the person, received between them: newer than the follower by server time.
    const other = at(T0 + 3, { categories: { c: true } });
    const rs = [late, follower, other];
    const results = [rs, [...rs].reverse(), [other, late, follower]].map((o) => mergeSubjectConsent(o));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]?.receiptId).toBe(other.receipt.receiptId);
    expect(results[0]?.categories).toEqual({ a: false, b: true, c: true });
  });

  it('answers for a forged cycle of previous ids, by server time', () => {
    const x = at(T0 + 1, { receiptId: '10000000-0000-4000-8000-000000000000', categories: { a: true } });
    const y = at(T0 + 2, {
      receiptId: '20000000-0000-4000-8000-000000000000',
      previousReceiptId: x.receipt.receiptId,
      categories: { a: false },
    });
    x.receipt.previousReceiptId = y.receipt.receiptId;
    expect(mergeSubjectConsent([x, y])?.receiptId).toBe(y.receipt.receiptId);
  });

  it('counts the lifetime of a receipt from a clock far ahead from the server time', () => {
    const day = 86_400_000;
    const fast = at(T0, {
      collectedAt: T0 + 400 * day,
      expiresAt: T0 + 795 * day,
      expiries: { analytics: T0 + 430 * day },
      categories: { necessary: true, analytics: true },
      services: { s1: true },
    });
    const merged = mergeSubjectConsent([fast]);
    expect(merged?.expiries).toEqual({
      necessary: T0 + CLOCK_TOLERANCE_MS + 395 * day,
      analytics: T0 + CLOCK_TOLERANCE_MS + 30 * day,
      s1: T0 + CLOCK_TOLERANCE_MS + 395 * day,
    });
    // The earliest choice's: analytics.
    expect(merged?.expiresAt).toBe(T0 + CLOCK_TOLERANCE_MS + 30 * day);
    expect(merged?.decidedAt).toBe(T0 + 400 * day);
  });

  it('gives every choice its own expiry: a service its entry in expiries, else its receipt’s expiresAt', () => {
    const day = 86_400_000;
    const now = at(T0, {
      categories: { necessary: true, analytics: true, marketing: true },
      services: { matomo: true, adsense: true, older: true },
      expiresAt: T0 + day,
      expiries: {
        necessary: T0 + 365 * day,
        analytics: T0 + 365 * day,
        marketing: T0 + day,
        matomo: T0 + 365 * day,
        adsense: T0 + day,
      },
    });
    expect(mergeSubjectConsent([now])?.expiries).toEqual({
      necessary: T0 + 365 * day,
      analytics: T0 + 365 * day,
      marketing: T0 + day,
      matomo: T0 + 365 * day,
      adsense: T0 + day,
      older: T0 + day,
    });
  });

  it('keeps only the choices made under the newest receipt’s revision: the others are unanswered', () => {
    const r1 = at(T0 + 1, {
      revision: 'r1',
      categories: { necessary: true, analytics: true, marketing: true },
      services: { matomo: true, demotube: true },
    });
    const r2 = at(T0 + 2, { revision: 'r2', categories: { necessary: true }, services: { demotube: true } });
    const merged = mergeSubjectConsent([r2, r1]);
    expect(merged).toMatchObject({ revision: 'r2', receiptId: r2.receipt.receiptId });
    expect(merged?.categories).toEqual({ necessary: true });
    expect(merged?.services).toEqual({ demotube: true });
    expect(Object.keys(merged?.updatedAt ?? {})).toEqual(['necessary']);
    expect(Object.keys(merged?.expiries ?? {})).toEqual(['demotube', 'necessary']);
    // A later choice made under another revision (a page still on r1) leaves the item unanswered: it neither
    // brings back the older r2 choice nor counts itself, as for one device (services/device-choices.ts).
    const r2Analytics = at(T0 + 3, { revision: 'r2', categories: { analytics: true } });
    const staleTab = at(T0 + 4, { revision: 'r1', categories: { analytics: false } });
    const r2Video = at(T0 + 5, { revision: 'r2', services: { demotube: false }, categories: {} });
    expect(mergeSubjectConsent([r1, r2, r2Analytics, staleTab, r2Video])?.categories).toEqual({
      necessary: true,
    });
  });

  it('is made of browser receipts only: an email link’s receipt (preferences, its own revision) is no part', () => {
    const banner = at(T0 + 1, { revision: 'r1', categories: { necessary: true, analytics: true } });
    const email = at(T0 + 2, {
      deviceId: null,
      revision: '1',
      method: 'email-link',
      categories: {},
      services: {},
      preferences: { newsletter: { email: true } },
      expiresAt: T0 + 86_400_000,
    });
    const merged = mergeSubjectConsent([banner, email]);
    expect(merged).toMatchObject({
      revision: 'r1',
      method: 'preferences',
      receiptId: banner.receipt.receiptId,
    });
    expect(merged?.categories).toEqual({ necessary: true, analytics: true });
    expect(merged?.expiresAt).toBe(banner.receipt.expiresAt);
    expect(mergeSubjectConsent([email])).toBeNull();
  });
});
