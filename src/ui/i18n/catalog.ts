import { enBanner } from './en-banner.ts';
import { itBanner } from './it-banner.ts';
import type { BannerMessages, Messages } from './messages.ts';

/**
 * The banner texts that ship in the first file (it, en); their preference center texts are fetched once the
 * banner is up (`i18n/<lang>-prefs.js`). German, French and Spanish are fetched whole when chosen.
 */
export const BUILT_IN: Record<string, BannerMessages> = { it: itBanner, en: enBanner };

/** A catalog as loaded for the banner: complete (de, fr, es) or the banner's part (it, en). */
export type Catalog = BannerMessages & Partial<Messages>;
