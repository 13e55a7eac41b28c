import { BUILT_IN, type Catalog } from './i18n/catalog.ts';
import type { PrefsMessages } from './i18n/messages.ts';

/** The preference center chunk: its view (component, draft logic, receipt download) and its stylesheet. */
export type PreferencesModule = Pick<typeof import('./PreferenceCenter.tsx'), 'preferencesView' | 'css'>;

/**
 * The on-demand parts as module imports: what bundlers split into chunks (the ES module entry) and what the
 * tests use. The script-tag build loads the same parts by URL instead (see embed.ts), because an IIFE cannot
 * hold import() of its own modules.
 */
export interface Loaders {
  /** A language's catalog, or undefined when there is no built-in one. */
  catalog(lang: string): Promise<Catalog | undefined>;
  /** The preference center texts of a built-in language (it, en); undefined for the others. */
  prefsTexts(lang: string): Promise<PrefsMessages | undefined>;
  preferences(): Promise<PreferencesModule>;
}

export const moduleLoaders: Loaders = {
  catalog(lang) {
    switch (lang) {
      case 'de':
        return import('./i18n/de.ts').then((x) => x.de);
      case 'fr':
        return import('./i18n/fr.ts').then((x) => x.fr);
      case 'es':
        return import('./i18n/es.ts').then((x) => x.es);
      default:
        return Promise.resolve(BUILT_IN[lang]);
    }
  },
  prefsTexts(lang) {
    switch (lang) {
      case 'it':
        return import('./i18n/it-prefs.ts').then((x) => x.prefs);
      case 'en':
        return import('./i18n/en-prefs.ts').then((x) => x.prefs);
      default:
        return Promise.resolve(undefined);
    }
  },
  preferences: () => import('./PreferenceCenter.tsx'),
};
