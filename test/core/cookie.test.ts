import { describe, expect, it } from 'vitest';
import { decodeDecision, encodeDecision, resolveConfig } from '../../src/core/index.ts';
import { DAY, siteConfig, T0 } from './helpers.ts';

const cfg = resolveConfig(siteConfig());
const decision = {
  format: 1,
  revision: '2026-05 & more',
  decidedAt: T0,
  expiresAt: T0 + 30 * DAY,
  method: 'preferences' as const,
  categories: { necessary: true, analytics: true, marketing: false },
  services: { ga: true, yt: true },
  expiries: { analytics: T0 + 30 * DAY, marketing: T0 + 182 * DAY },
  receiptId: '0b9c3a52-8d6e-4d0b-9a54-0f3f7f0f2a11',
  deviceId: '5f0c2e4a9b7d41c3a8e6f1d2c3b4a596',
  gpc: true,
};

describe('cookie mirror format (docs/cookie.md)', () => {
  it('round-trips and lists only services that differ from their category', () => {
    const v = encodeDecision(decision, cfg);
    expect(decodeDecision(v, cfg)).toEqual(decision);
    const p = new URLSearchParams(v);
    expect(Object.fromEntries(p)).toEqual({
      v: '1',
      r: '2026-05 & more',
      t: `${T0}`,
      x: `${T0 + 30 * DAY}`,
      m: 'preferences',
      id: decision.receiptId,
      d: decision.deviceId,
      g: '1',
      c: `necessary:1.analytics:1:${T0 + 30 * DAY}.marketing:0:${T0 + 182 * DAY}`,
      s: 'yt:1',
    });
    // Only cookie-safe characters (RFC 6265 cookie-octet).
    expect(v).toMatch(/^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$/);
  });

  it('reads anything malformed or of another version as no decision', () => {
    const v = encodeDecision(decision, cfg);
    for (const bad of [
      '',
      'garbage',
      v.replace('v=1', 'v=2'),
      v.replace('m=preferences', 'm=sure'),
      v.replace(/id=[^&]+/, 'id=nope'),
      v.replace(/d=[^&]+/, 'd=1234'),
      v.replace('analytics%3A1', 'analytics%3Ayes'),
      v.replace(/t=\d+/, 't=soon'),
    ])
      expect(decodeDecision(bad, cfg)).toBeNull();
  });
});
