import type { PrefsMessages } from './messages.ts';

/** Italiano: the preference center's texts (`i18n/it-prefs.js`, loaded once the banner is up). */
export const prefs: PrefsMessages = {
  linkFailed:
    'Questo link è scaduto o non è più valido: le scelte qui sotto valgono solo per questo browser. Troverai un nuovo link nella prossima email.',
  prefsTitle: 'Preferenze sui cookie',
  prefsIntro:
    'Scegli quali categorie di cookie e servizi consentire. Quelli strettamente necessari sono sempre attivi perché senza di loro il sito non funziona.',
  save: 'Salva le mie scelte',
  alwaysOn: 'Sempre attivi',
  showServices: 'Servizi ({count})',
  cookies: 'Cookie',
  cookieName: 'Nome',
  cookieDuration: 'Durata',
  cookiePurpose: 'Finalità',
  providedBy: 'Fornito da {provider}',
  servicePrivacy: 'Informativa sulla privacy di {service}',
  downloadReceipt: 'Scarica la ricevuta del mio consenso',
  closePrefs: 'Chiudi',
};
