import { randomBytes } from 'node:crypto';
import { parseConfig, type ServerConfig } from '../../../src/server/config.ts';
import { createPseudonymizer } from '../../../src/server/crypto/pseudonym.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';

export const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
export const DAY = 86_400_000;

/** A site with two purposes on two channels each, and a third on post only. */
export function emailConfig(extra: { webhooks?: unknown[] } = {}): ServerConfig {
  return parseConfig({
    publicUrl: 'https://consent.example',
    rateLimit: false,
    sites: [
      {
        id: 'shop',
        name: 'Shop & Co',
        origins: ['https://shop.example'],
        channels: ['email', 'sms', 'post'],
        purposes: [
          {
            id: 'newsletter',
            title: { it: 'Newsletter', en: 'Newsletter' },
            description: { en: 'News once a month', it: 'Notizie una volta al mese' },
            channels: ['email', 'sms'],
            lifetimeDays: 365,
          },
          {
            id: 'offers',
            title: { it: 'Offerte', en: 'Offers' },
            channels: ['email', 'sms'],
            lifetimeDays: 30,
          },
          { id: 'catalogue', title: 'Catalogue', channels: ['post'], lifetimeDays: 730 },
        ],
        emailLinks: { language: 'it' },
        webhooks: extra.webhooks ?? [],
      },
      {
        id: 'blog',
        origins: ['https://blog.example'],
        purposes: [{ id: 'digest', title: 'Digest', channels: ['email'] }],
      },
    ],
  });
}

/** A mutable clock starting at T0. */
export function testClock() {
  let t = T0;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

export function testSecrets() {
  return { keyring: createMemoryKeyring(T0), pseudonymizer: createPseudonymizer(randomBytes(32)) };
}
