import type { BannerMessages } from './messages.ts';

/** Italiano: the banner's texts (in the script tag's first file). */
export const itBanner: BannerMessages = {
  bannerTitle: 'Rispettiamo la tua privacy',
  bannerText:
    'Usiamo cookie e tecnologie simili strettamente necessari al funzionamento del sito e, con il tuo consenso, altri per misurare le visite e mostrare contenuti esterni. Puoi accettare tutto, rifiutare tutto o scegliere, e cambiare idea in ogni momento.',
  acceptAll: 'Accetta tutti',
  rejectAll: 'Rifiuta tutti',
  customise: 'Personalizza',
  closeBanner: 'Chiudi e continua senza accettare',
  reasonRevision: 'La nostra informativa sui cookie è cambiata dalla tua ultima scelta. Scegli di nuovo.',
  reasonExpired: 'La tua scelta precedente per {categories} è scaduta. Scegli di nuovo.',
  gpcHonoured: 'Il tuo browser ha inviato il segnale Global Privacy Control: non attiviamo {categories}.',
  privacyPolicy: 'Informativa sulla privacy',
  saved: 'Le tue scelte sono state salvate.',
  prefsFailed: 'Non è stato possibile caricare le impostazioni. Riprova.',
  and: 'e',
};
