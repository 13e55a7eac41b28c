import { itBanner } from './it-banner.ts';
import { prefs } from './it-prefs.ts';
import type { Messages } from './messages.ts';

/** Italiano, complete: the banner's texts and the preference center's. */
export const it: Messages = { ...itBanner, ...prefs };
