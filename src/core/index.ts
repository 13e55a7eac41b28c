export { newDeviceId, newReceiptId, systemClock } from './clock.ts';
export {
  checkConfig,
  DEFAULT_CONSENT_MODE,
  DEFAULT_LIFETIME_DAYS,
  type Issue,
  MAX_LIFETIME_DAYS,
} from './config.ts';
export { explain, FIXES, type Fix, resolveConfig } from './config-fixes.ts';
export type { Delivery } from './consent.ts';
export { createConsentWith } from './consent.ts';
export { createConsent } from './create.ts';
export { createCookieMirror, decodeDecision, encodeDecision } from './cookie-mirror.ts';
export { decide, evaluate, readDecision } from './decision.ts';
export { clearServiceData } from './clear.ts';
export { buildReceipt, defaultNotice } from './receipt.ts';
export { consentModeState, gpcSignal } from './signals.ts';
export { createKeyValueStore, createStorage } from './storage.ts';
export type {
  AssensoConfig,
  CategoryConfig,
  ChangeEvent,
  ChangeSource,
  Choices,
  Clock,
  ConsentController,
  ConsentDeps,
  ConsentModeConfig,
  ConsentState,
  CookieConfig,
  CookieSpec,
  Decision,
  EventMap,
  GoogleConsentType,
  KeyValueStore,
  Layout,
  Localized,
  Method,
  NoticeSnapshot,
  Prompt,
  PromptReason,
  Receipt,
  ReceiptLog,
  RejectedReceipt,
  ResolvedCategory,
  ResolvedConfig,
  ResolvedService,
  SaveInput,
  ServiceConfig,
  SignedReceipt,
  Theme,
  Unsubscribe,
  View,
} from './types.ts';
export { DECISION_FORMAT } from './types.ts';
