/*
 * Every text the widget shows, by key. One interface types all catalogs, so a missing key in any language is
 * a compile error. Texts are plain strings (never markup): `{name}` placeholders are filled by `format()`.
 * The exact strings rendered go into the notice snapshot (their hash is the receipt's `noticeHash`).
 */
/** The banner's texts: they ship in the script tag's first file for it and en. */
export interface BannerMessages {
  /** Heading of the banner. */
  bannerTitle: string;
  /** Body of the banner when the site configures none. */
  bannerText: string;
  acceptAll: string;
  rejectAll: string;
  customise: string;
  /** Accessible name of the × button, which keeps only the required category. */
  closeBanner: string;
  /** Why the banner is back: the policy revision changed. */
  reasonRevision: string;
  /** Why the banner is back: the earlier decision expired. `{categories}`: list of category titles. */
  reasonExpired: string;
  /** The browser sent Global Privacy Control and these categories were denied. `{categories}`. */
  gpcHonoured: string;
  /** Link to the site's privacy policy. */
  privacyPolicy: string;
  /** Announced after a decision was saved. */
  saved: string;
  /** The preference center could not be loaded (offline, a flaky network); said on the banner. */
  prefsFailed: string;
  /** Joins the last two items of a list ("a, b and c"). */
  and: string;
}

/** The preference center's texts: for it and en a small file of their own, loaded once the banner is up. */
export interface PrefsMessages {
  /** An email link opened on the site was refused (expired, altered, revoked) or could not be checked. */
  linkFailed: string;
  /** Heading of the preference center. */
  prefsTitle: string;
  /** Intro of the preference center. */
  prefsIntro: string;
  /** Save the switches as they are. */
  save: string;
  /** Label of the required category's switch state. */
  alwaysOn: string;
  /** Toggle that shows a category's services. `{count}`: number of services. */
  showServices: string;
  /** Heading of a service's cookie table. */
  cookies: string;
  cookieName: string;
  cookieDuration: string;
  cookiePurpose: string;
  /** "Provided by {provider}". */
  providedBy: string;
  /** Link to a service provider's privacy policy. `{service}`. */
  servicePrivacy: string;
  /** Download of the signed receipts kept on this device. */
  downloadReceipt: string;
  /** Accessible name of the preference center's close button. */
  closePrefs: string;
}

export type Messages = BannerMessages & PrefsMessages;

/** Languages that have a complete built-in catalog. */
export const LANGUAGES = ['en', 'it', 'de', 'fr', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Fills `{name}` placeholders with text values (the result is still rendered as text). */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (all, key: string) => (key in values ? String(values[key]) : all));
}
