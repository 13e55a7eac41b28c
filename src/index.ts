/**
 * The ES module entry (`dist/assenso.mjs`) for bundlers: the same widget as the script tag.
 *
 * @example
 * import { attachUi, createConsent, createIdentity, moduleLoaders } from 'assenso';
 * const consent = createConsent({ siteId: 'shop', categories: [...] });
 * consent.start();
 * const identity = createIdentity(consent); // "Your devices" in the preference center (docs/identity.md)
 * attachUi(consent, { loaders: moduleLoaders, identity: async () => identity });
 */
export { explain, FIXES, type Fix, resolveConfig } from './core/config-fixes.ts';
export { createConsent } from './core/create.ts';
export { type EmailLinkDeps, openEmailLink } from './core/email-link.ts';
export { createIdentity, type IdentityApi } from './core/identity.ts';
export type {
  AssensoConfig,
  CategoryConfig,
  ChangeEvent,
  Choices,
  ConsentController,
  ConsentDeps,
  ConsentState,
  CookieSpec,
  Decision,
  EventMap,
  Layout,
  Localized,
  ReceiptLog,
  ServiceConfig,
  Theme,
  Unsubscribe,
  View,
} from './core/types.ts';
export { type AttachOptions, attachUi, widgetLanguage } from './ui/attach.ts';
export type { Messages } from './ui/i18n/messages.ts';
export { type Loaders, moduleLoaders } from './ui/lazy.ts';
export { type MountedUi, type MountOptions, mountUi } from './ui/mount.tsx';
export { type AssensoApi, type ConsentSnapshot, createWindowApi } from './ui/window-api.ts';
