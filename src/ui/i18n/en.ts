import { enBanner } from './en-banner.ts';
import { prefs } from './en-prefs.ts';
import type { Messages } from './messages.ts';

/** English, complete: the banner's texts and the preference center's. */
export const en: Messages = { ...enBanner, ...prefs };
