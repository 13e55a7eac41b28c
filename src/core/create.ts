import { createConsentWith } from './consent.ts';
import type { ConsentController, ConsentDeps } from './types.ts';

/**
 * The consent controller. Construction is pure (validates the config, nothing else); `start()` reads the
 * cookie mirror synchronously and applies it, then reconciles with IndexedDB and flushes the outbox.
 *
 * @example
 * const consent = createConsent({ siteId: 'shop', categories: [...] });
 * consent.start();
 * consent.on('change', ({ granted }) => console.log(granted.categories));
 */
export function createConsent(input: unknown, deps: ConsentDeps = {}): ConsentController {
  return createConsentWith(() => import('./delivery.ts'), input, deps);
}
