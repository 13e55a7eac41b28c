/**
 * The typed contract of the widget core. The UI (src/ui), the embed entry and the identity module build on
 * these types only; everything else in src/core is an implementation detail.
 */
import type { SignedReceipt } from '../protocol/api.ts';
import type { Method } from '../protocol/ids.ts';
import type { NoticeSnapshot } from '../protocol/notice.ts';
import type { ProblemDetails } from '../protocol/problem.ts';
import type { Receipt } from '../protocol/receipt.ts';
import type { ShownNotice } from './notice.ts';

export type { Method, NoticeSnapshot, ProblemDetails, Receipt, SignedReceipt };

/** A text given once, or per language (`{ it: '…', en: '…' }`). Always rendered as text, never as HTML. */
export type Localized = string | Record<string, string>;

/** A cookie a service sets. `name` is exact, or a prefix pattern ending in `*` (`_ga*`). */
export interface CookieSpec {
  name: string;
  /** Domain the service sets it on, when not the page's host (`.example.com`). */
  domain?: string;
  path?: string;
  /** Human duration shown in the preference center (`2 years`). */
  duration?: Localized;
  purpose?: Localized;
}

export interface ServiceConfig {
  /** `[a-z0-9][a-z0-9_-]{0,63}`, unique across categories and services. */
  id: string;
  name: string;
  provider?: string;
  purpose?: Localized;
  privacyUrl?: string;
  cookies?: CookieSpec[];
  /** localStorage / sessionStorage keys the service writes (exact, or prefix ending in `*`). */
  storageKeys?: string[];
  /** Hosts the service loads from (informative; used to name an iframe's service). */
  domains?: string[];
}

export interface CategoryConfig {
  /** `[a-z0-9][a-z0-9_-]{0,63}`, unique across categories and services. */
  id: string;
  /** Always granted, shown on and disabled. */
  required?: boolean;
  title: Localized;
  description: Localized;
  /** Lifetime of a choice for this category, in days (1..395); defaults to the config's `lifetimeDays`. */
  lifetimeDays?: number;
  /** Denied when the browser sends Global Privacy Control (and the config honours it). */
  gpc?: boolean;
  services?: ServiceConfig[];
}

/** Google Consent Mode v2 consent types. */
export type GoogleConsentType =
  | 'ad_storage'
  | 'analytics_storage'
  | 'ad_user_data'
  | 'ad_personalization'
  | 'functionality_storage'
  | 'personalization_storage'
  | 'security_storage';

export interface ConsentModeConfig {
  /**
   * Consent type → category ids. A type is granted when every listed category that exists is granted
   * (required categories count as granted). Unlisted types keep the default mapping; a type whose list
   * names no existing category is denied, except `security_storage`, granted by default.
   */
  mapping?: Partial<Record<GoogleConsentType, string[]>>;
  /** `wait_for_update` in ms for the `consent default` command (default 500). */
  waitForUpdate?: number;
  /**
   * `gtag('set', 'ads_data_redaction', true)` after the default: while `ad_storage` is denied, Google's ad tags
   * also drop ad-click identifiers from their requests (default false).
   */
  adsDataRedaction?: boolean;
  /**
   * `gtag('set', 'url_passthrough', true)` after the default: while storage is denied, Google's tags carry
   * ad-click information in the links of the page instead of cookies (default false).
   */
  urlPassthrough?: boolean;
}

export interface CookieConfig {
  /** Cookie name of the decision mirror (default `assenso`). */
  name?: string;
  /** Set to the registrable domain (`example.com`) to share the decision with subdomains. */
  domain?: string;
  path?: string;
  sameSite?: 'Lax' | 'Strict' | 'None';
}

export type Layout = 'bar' | 'box' | 'modal';
export type Theme = 'light' | 'dark' | 'auto';

/** What the host page passes (script tag data attributes, inline JSON, config URL, or `createConsent`). */
export interface AssensoConfig {
  siteId: string;
  /** Base URL of the receipt server (`https://consent.example.com`); receipts go to `${endpoint}/v1/receipts`. Without it receipts stay on the device. */
  endpoint?: string;
  /** Policy revision; changing it asks every visitor again (default `'1'`). */
  revision?: string;
  /** Consent lifetime in days: default 182 (6 months), at most 395 (13 months). */
  lifetimeDays?: number;
  /** Forced language; otherwise `<html lang>`, then the browser's languages (the UI decides). */
  language?: string;
  /** Languages offered (default `['it', 'en', 'de', 'fr', 'es']`). */
  languages?: string[];
  privacyPolicyUrl?: Localized;
  categories: CategoryConfig[];
  /** Per-language overrides of message keys: `{ en: { 'banner.title': '…' } }`. */
  texts?: Record<string, Record<string, string>>;
  layout?: Layout;
  theme?: Theme;
  /** CSS custom properties (`{ '--assenso-accent': '#0a5' }`). */
  themeTokens?: Record<string, string>;
  cookie?: CookieConfig;
  /** Google Consent Mode v2 (default off). `true` uses the default mapping. */
  consentMode?: boolean | ConsentModeConfig;
  /** Honour Global Privacy Control for categories marked `gpc` (default true). */
  gpc?: boolean;
}

/** The configuration after validation: every default filled in, every bad key replaced. */
export interface ResolvedService extends Required<Pick<ServiceConfig, 'id' | 'name'>> {
  provider?: string;
  purpose?: Localized;
  privacyUrl?: string;
  cookies: CookieSpec[];
  storageKeys: string[];
  domains: string[];
  /** Id of the category the service belongs to. */
  category: string;
}

export interface ResolvedCategory {
  id: string;
  required: boolean;
  title: Localized;
  description: Localized;
  lifetimeDays: number;
  gpc: boolean;
  services: ResolvedService[];
}

export interface ResolvedConfig {
  siteId: string;
  endpoint: string | null;
  revision: string;
  lifetimeDays: number;
  language: string | null;
  languages: string[];
  privacyPolicyUrl: Localized | null;
  categories: ResolvedCategory[];
  texts: Record<string, Record<string, string>>;
  layout: Layout;
  theme: Theme;
  themeTokens: Record<string, string>;
  cookie: Required<Omit<CookieConfig, 'domain'>> & { domain: string | null };
  /** `set`: the `gtag('set', …, true)` flags sent after the default (`ads_data_redaction`, `url_passthrough`). */
  consentMode: false | { mapping: Record<GoogleConsentType, string[]>; waitForUpdate: number; set: string[] };
  gpc: boolean;
}

/** Choices by id: true granted, false denied. */
export type Choices = Record<string, boolean>;

/** Version of the stored decision format (IndexedDB record and cookie mirror). */
export const DECISION_FORMAT = 1;

/** A visitor's decision as stored on the device (IndexedDB, cookie mirror). Times are epoch ms. */
export interface Decision {
  /** Storage format version (DECISION_FORMAT). Other versions are migrated or read as no decision. */
  format: number;
  revision: string;
  decidedAt: number;
  /** Earliest per-category expiry: the moment something must be asked again. */
  expiresAt: number;
  method: Method;
  /**
   * The categories answered, required ones true; also the earlier answer of one asked again and not answered
   * yet (its expiry not after `decidedAt`: it prefills the banner and applies no more).
   */
  categories: Choices;
  /** Services: their own choice, or their category's; one not listed (added since) follows its category. */
  services: Choices;
  /**
   * Expiry per optional category, and per service allowed on its own in a category the decision does not
   * answer. None counts later than the category's lifetime as configured now after `decidedAt`.
   */
  expiries: Record<string, number>;
  /** Id of the receipt that records this decision (the next receipt's `previousReceiptId`). */
  receiptId: string;
  /** The device's random id (32 hex), the same for every decision of this browser. */
  deviceId: string;
  /** Whether Global Privacy Control was on when deciding. */
  gpc: boolean;
}

/** Why the banner must be shown. */
export type PromptReason = 'first-visit' | 'revision' | 'expired';

export interface Prompt {
  reason: PromptReason;
  /** Categories to ask about: all optional ones, or only the expired ones. */
  categories: string[];
  /** The previous choices to prefill (null on a first visit). */
  previous: { categories: Choices; services: Choices } | null;
}

export type View = 'none' | 'banner' | 'preferences';

/** Everything the UI renders. Immutable: a new object on every change. */
export interface ConsentState {
  /** `start()` has run (the synchronous part). */
  started: boolean;
  /** The stored decision, valid or stale; null when there is none (or it was unreadable). */
  decision: Decision | null;
  /** What is applied right now (has() reads this): stale or expired parts count as denied. */
  granted: { categories: Choices; services: Choices };
  /** Non-null when the visitor must be asked (the banner shows, saying why). */
  prompt: Prompt | null;
  /** Global Privacy Control is on and honoured: these categories are denied by it. */
  gpc: { active: boolean; categories: string[] };
  view: View;
  /** Said at the top of the open view until it closes: `link-failed`, an email link that was refused. */
  notice?: Notice;
}

/** Something the open view says first (see ConsentState.notice). */
export type Notice = 'link-failed';

/** Input of `save()`: categories and/or services; anything not named keeps its current choice. */
export interface SaveInput {
  categories?: Choices;
  services?: Choices;
  /** How the choice was made (default `preferences`; the embed's `set()` passes `api`). */
  method?: Method;
}

/** Where a change came from (`sync`: another device of the same person, through the server; see identity.ts). */
export type ChangeSource = 'local' | 'tab' | 'storage' | 'sync';

/** Events of `on()`. Also dispatched as the `assenso:change` CustomEvent (detail = ChangeEvent). */
export interface EventMap {
  /** The state applied with the first synchronous read (`start()`). */
  ready: ConsentState;
  /** A decision was applied (made here, in another tab, or found in storage). */
  change: ChangeEvent;
  /** Grants were withdrawn: their cookies and storage keys have been deleted. */
  revoke: { categories: string[]; services: string[] };
  /** The open view changed. */
  view: View;
  /** A receipt entered the outbox. */
  queued: Receipt;
  /** The server stored (or already had) a receipt and signed it. */
  acknowledged: SignedReceipt;
  /** The server refused a receipt; it is kept in the rejected list. */
  rejected: RejectedReceipt;
  /** A listener, storage or network failure (never thrown into the page). */
  error: { where: string; error: unknown };
}

export interface ChangeEvent {
  decision: Decision | null;
  previous: Decision | null;
  granted: ConsentState['granted'];
  source: ChangeSource;
}

export interface RejectedReceipt {
  receipt: Receipt;
  problem: ProblemDetails;
  at: number;
}

/** What the device holds about its receipts (for "Download my consent receipt"). */
export interface ReceiptLog {
  /** Server-signed receipts, oldest first. */
  acknowledged: SignedReceipt[];
  /** Not yet acknowledged (or no endpoint configured), oldest first. */
  pending: Receipt[];
  /** Refused by the server, kept for inspection. */
  rejected: RejectedReceipt[];
}

export type Unsubscribe = () => void;

/**
 * The consent controller: built pure by `createConsent`, effects begin at `start()`.
 *
 * After `destroy()` (also one before `start()`), `start()` starts nothing, and no call fails for it: what reads
 * the device's records answers from them (`receipts()`, `deviceId()`, `notice()`), what would decide or send
 * resolves without effect (the decisions and `reset()` with undefined, `adopt()` with false, `flush()`).
 */
export interface ConsentController {
  readonly config: ResolvedConfig;
  /**
   * Applies the cookie-mirrored decision synchronously (gating, Consent Mode, state), then reconciles with
   * IndexedDB and flushes the outbox; the promise settles when that is done. Never rejects.
   */
  start(): Promise<void>;
  /**
   * The first part of `start()` alone, for a caller that splits start-up in two tasks: opens storage, reads
   * Global Privacy Control and sends Consent Mode's `default`, without reading the cookie mirror or touching
   * the page. `start()` does it too if it has not run; idempotent.
   */
  boot(): void;
  getState(): ConsentState;
  /** Called with the new state after every change. */
  subscribe(fn: (state: ConsentState) => void): Unsubscribe;
  /**
   * The decision promises resolve once the receipt is in the outbox and the decision is stored; after
   * `destroy()`, with undefined (nothing is decided). A tab opened before the site changed its policy revision,
   * once a page on the new one stored the visitor's answer: its decision answers the older policy. Its receipt is
   * made and it applies in the tabs on that revision, but the stored decision (cookie, IndexedDB, the next pages)
   * stays the newer policy's, unless this one refuses something that one allows (a withdrawal counts everywhere).
   *
   * Every optional category on; with `only` (the banner passes `prompt.categories`), only those: the banner
   * that asks about an expired category leaves the still valid choices alone. `method`: what the receipt
   * records (`accept-all` / `reject-all`; `window.assenso` passes `api`, a call of the page's, not a click).
   */
  acceptAll(only?: string[], method?: Method): Promise<Decision>;
  rejectAll(only?: string[], method?: Method): Promise<Decision>;
  /**
   * The banner's ×: keeps only the required categories (Garante 2021), of `only` when given. Method `close`.
   * A service the visitor allowed on its own (an iframe placeholder) in a category never answered stays.
   */
  close(only?: string[]): Promise<Decision>;
  save(input: SaveInput): Promise<Decision>;
  /** Grants one service (or a category, given its id) on top of the current choices. Method `service`. */
  allowService(id: string): Promise<Decision>;
  /** Whether a category or service id is granted right now. */
  has(id: string): boolean;
  /** Shows the banner or (default) the preference center, saying `notice` first if given. */
  open(view?: Exclude<View, 'none'>, notice?: Notice): void;
  /** Closes the open view (back to the banner while a prompt is pending). */
  hide(): void;
  on<K extends keyof EventMap>(type: K, fn: (event: EventMap[K]) => void): Unsubscribe;
  /** Forgets the decision on this device (cookies of granted services are deleted; receipts are kept). */
  reset(): Promise<void>;
  /**
   * The receipts kept on this device (empty lists when there are none). Also after `destroy()`, even before
   * `start()`: it reads them, and starts nothing. Loads the delivery chunk (rejects only if it cannot load).
   */
  receipts(): Promise<ReceiptLog>;
  /**
   * The notice a receipt made now would hash: what the UI shows (`deps.getNotice`) with the configured
   * categories and services in its language. Given a `language`: the categories and services in it, without
   * texts (what the preference center lists). Loads the delivery chunk.
   */
  notice(language?: string): Promise<NoticeSnapshot>;
  /** Sends pending receipts now (normally automatic). After `destroy()` it sends nothing, and resolves. */
  flush(): Promise<void>;
  /**
   * Stops observers, timers, listeners and the tab channel (single-page apps, tests). A decision already on its
   * way is still stored; every later call resolves as the interface's description says.
   */
  destroy(): void;
  /**
   * The device's random id, stored on first use (identity linking needs it before any decision). After
   * `destroy()` too: it is the device's, shared by every controller of the site.
   */
  deviceId(): Promise<string>;
  /**
   * Applies a decision made on another linked device (fetched from the server by src/core/identity.ts):
   * stored, mirrored, applied and told to the other tabs like a local one, with source `sync`, but no receipt
   * is made: the server already holds it. The next receipt of this device chains to `d.receiptId`.
   * Not applied (false) when this device holds a newer decision: one whose receipt the server has not
   * received (still to be made, or in the outbox), or, with `basis` (the receipt id of this device's decision
   * when the server was asked, null for none), one made since the question. The check runs in turn with
   * decisions, so a click that happened while the answer was on its way wins. Not after `destroy()` either.
   */
  adopt(d: Decision, basis?: string | null): Promise<boolean>;
}

/** A small async key–value store (idb-keyval shaped). Implementations never throw; they degrade. */
export interface KeyValueStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  /** Atomic read-modify-write (one IndexedDB transaction). */
  update<T>(key: string, fn: (old: T | undefined) => T): Promise<void>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Everything the controller touches outside itself. All optional: browser defaults are used. */
export interface ConsentDeps {
  clock?: Clock;
  /** Receipt ids (default `crypto.randomUUID`). */
  newId?: () => string;
  /** Uniform [0, 1) for backoff jitter (default `Math.random`). */
  random?: () => number;
  /** Decision store and outbox store (default: IndexedDB → localStorage → memory, two databases). */
  storage?: { state: KeyValueStore; outbox: KeyValueStore };
  /** Used for receipts (default `globalThis.fetch`). */
  fetch?: typeof fetch;
  /**
   * What the UI shows (its language and texts, supplied by the UI); the receipt's notice adds the configured
   * categories in that language (core/notice.ts). Default: the configured language, no texts.
   */
  getNotice?: () => ShownNotice;
  /** The language the UI speaks (attachUi sets it): the iframe placeholder's texts (it, en, de, fr, es). */
  language?: string;
  /** Texts shown outside the UI (the iframe placeholders', set as they are filled): hashed with its texts. */
  shown?: Record<string, string>;
  /** The host's own texts for the iframe placeholder, over the built-in ones. Keys: see placeholder.ts. */
  text?: (key: 'placeholder.text' | 'placeholder.allow', vars: Record<string, string>) => string;
  /** Nonce for gated scripts (default: read from the page's own nonced scripts). */
  nonce?: string;
  /** Overrides `navigator.globalPrivacyControl`. */
  gpc?: boolean;
  /** BroadcastChannel name suffix (default: site id). */
  channel?: string;
}
