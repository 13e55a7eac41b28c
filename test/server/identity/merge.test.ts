import { describe, expect, it } from 'vitest';
import { mergeSubjectConsent } from '../../../src/server/identity/merge.ts';
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
});
