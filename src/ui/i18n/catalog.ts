import { en } from './en.ts';
import { it } from './it.ts';
import type { Messages } from './messages.ts';

/** The catalogs that ship with the banner; German, French and Spanish are fetched when chosen. */
export const BUILT_IN: Record<string, Messages> = { it, en };

/** Loads the other catalogs as chunks (for bundlers and tests; the script-tag build loads them by URL). */
export function importCatalog(lang: string): Promise<Messages | undefined> {
  switch (lang) {
    case 'de':
      return import('./de.ts').then((x) => x.de);
    case 'fr':
      return import('./fr.ts').then((x) => x.fr);
    case 'es':
      return import('./es.ts').then((x) => x.es);
    default:
      return Promise.resolve(BUILT_IN[lang]);
  }
}
