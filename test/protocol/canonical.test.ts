import { describe, expect, it } from 'vitest';
import { canonicalJson, noticeHash, parseReceipt, sha256Hex } from '../../src/protocol/index.ts';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys, drops undefined members and white space', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1.5, y: -0 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"d":{"y":0,"z":1.5}}',
    );
  });
  it('writes every string and number exactly as JSON.stringify does', () => {
    const strings = [
      '',
      'plain',
      'a"b',
      'a\\b',
      '\u0000\u001f\n\t',
      'é€',
      '\u2028\u2029',
      '\ud800',
      'x\udfff',
      '😀',
      '\u007f',
    ];
    const numbers = [0, -0, 1, -1.5, 0.1, 1e21, 1e-7, 123456789012345, Number.MAX_SAFE_INTEGER, 5e-324];
    for (const value of [...strings, ...numbers]) expect(canonicalJson(value)).toBe(JSON.stringify(value));
    expect(canonicalJson({ 'k"\u0001': ['\ud83d', 2] })).toBe('{"k\\"\\u0001":["\\ud83d",2]}');
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
  });
  it('hashes with SHA-256', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('noticeHash', () => {
  const notice = {
    siteId: 'shop',
    revision: '2026-11',
    language: 'it',
    texts: { title: 'Cookie', body: 'Usiamo cookie' },
    categories: [],
  };
  it('does not depend on key order', async () => {
    const reordered = {
      categories: [],
      texts: { body: 'Usiamo cookie', title: 'Cookie' },
      language: 'it',
      revision: '2026-11',
      siteId: 'shop',
    };
    expect(await noticeHash(reordered)).toBe(await noticeHash(notice));
  });
  it('changes when one shown text changes', async () => {
    expect(await noticeHash({ ...notice, texts: { ...notice.texts, body: 'Usiamo i cookie' } })).not.toBe(
      await noticeHash(notice),
    );
  });
});

describe('parseReceipt', () => {
  const good = {
    schema: 'assenso.receipt/1',
    receiptId: '0192f0c4-7b1e-7cc2-9a4d-2f1b6c1e9a10',
    siteId: 'shop',
    deviceId: '0123456789abcdef0123456789abcdef',
    collectedAt: 1_790_000_000_000,
    revision: '1',
    noticeHash: `sha256:${'a'.repeat(64)}`,
    language: 'it',
    method: 'accept-all',
    categories: { necessary: true, analytics: true },
    services: { matomo: true },
    expiresAt: 1_800_000_000_000,
    previousReceiptId: null,
  };
  it('accepts a valid receipt', () => {
    expect(parseReceipt(good).ok).toBe(true);
  });
  it('names every bad field', () => {
    const r = parseReceipt({ ...good, collectedAt: 1_790_000_000, method: 'maybe', extra: 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.some((e) => e.startsWith('collectedAt:'))).toBe(true);
      expect(r.errors.some((e) => e.startsWith('method:'))).toBe(true);
      expect(r.errors.some((e) => e.includes('extra'))).toBe(true);
    }
  });
});
