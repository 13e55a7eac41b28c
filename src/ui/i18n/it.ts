import type { Messages } from './messages.ts';

/** Italiano. */
export const it: Messages = {
  bannerTitle: 'Rispettiamo la tua privacy',
  bannerText:
    'Usiamo cookie e tecnologie simili strettamente necessari al funzionamento del sito e, con il tuo consenso, altri per misurare le visite e mostrare contenuti esterni. Puoi accettare tutto, rifiutare tutto o scegliere, e cambiare idea in ogni momento.',
  acceptAll: 'Accetta tutti',
  rejectAll: 'Rifiuta tutti',
  customise: 'Personalizza',
  closeBanner: 'Chiudi e continua senza accettare',
  reasonRevision: 'La nostra informativa sui cookie è cambiata dalla tua ultima scelta. Scegli di nuovo.',
  reasonExpired: 'La tua scelta precedente per {categories} è scaduta. Scegli di nuovo.',
  gpcHonoured:
    'Il tuo browser ha inviato il segnale Global Privacy Control: {categories} restano disattivati.',
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
  privacyPolicy: 'Informativa sulla privacy',
  servicePrivacy: 'Informativa sulla privacy di {service}',
  downloadReceipt: 'Scarica la ricevuta del mio consenso',
  closePrefs: 'Chiudi',
  saved: 'Le tue scelte sono state salvate.',
  and: 'e',
};
