/**
 * @module
 * Texts of the hosted pages, Italian and English. One `PageMessages` shape, so a missing key is a type error.
 * Functions take the values they interpolate; every value is rendered as text by Preact (never as HTML).
 */
import type { PageLanguage } from '../email/config-schema.ts';

export interface PageMessages {
  title: (site: string) => string;
  intro: string;
  channels: Record<string, string>;
  on: string;
  off: string;
  expires: (date: string) => string;
  expired: (date: string) => string;
  notDecided: string;
  save: string;
  saving: string;
  saved: string;
  saveFailed: string;
  unsubscribedAll: string;
  renewed: string;
  nothingToRenew: string;
  renewTitle: string;
  renewText: string;
  renew: string;
  otherActions: string;
  unsubscribeAll: string;
  unsubscribeAllHint: string;
  history: string;
  historyHint: string;
  erase: string;
  eraseHint: string;
  eraseConfirmTitle: string;
  eraseConfirmText: string;
  eraseConfirm: string;
  cancel: string;
  erasureRecorded: (date: string) => string;
  erasureRecordedTitle: string;
  confirmationUsed: string;
  unsubscribeTitle: (site: string) => string;
  unsubscribeText: string;
  unsubscribeScoped: (purposes: string) => string;
  unsubscribeConfirm: string;
  unsubscribeDone: string;
  unsubscribeDoneTitle: (site: string) => string;
  sessionEnded: string;
  formStaleTitle: string;
  formStale: string;
  backToPreferences: string;
  errorTitle: string;
  tokenErrors: Record<
    'invalid-token' | 'token-expired' | 'token-wrong-action' | 'token-wrong-site' | 'token-key-revoked',
    string
  >;
  askNewLink: string;
}

/** "8 marzo" and "11 marzo" start with a vowel sound: Italian elides the article ("all’8", "l’11"). */
const elided = (d: string) => /^(8|11)\b/.test(d);
const al = (d: string) => (elided(d) ? `all’${d}` : `al ${d}`);
const il = (d: string) => (elided(d) ? `l’${d}` : `il ${d}`);

const it: PageMessages = {
  title: (site) => `Le tue preferenze di comunicazione · ${site}`,
  intro:
    'Scegli per quali finalità e su quali canali possiamo contattarti. Puoi cambiare idea in ogni momento.',
  channels: { email: 'Email', sms: 'SMS', phone: 'Telefono', post: 'Posta', push: 'Notifiche push' },
  on: 'Sì',
  off: 'No',
  // The state sits under a channel's name ("Email", feminine): "Consenso" says what is valid or expired.
  expires: (d) => `Consenso valido fino ${al(d)}`,
  expired: (d) => `Consenso scaduto ${il(d)}: vale come un no`,
  notDecided: 'Non hai ancora scelto',
  save: 'Salva le mie scelte',
  saving: 'Salvataggio in corso…',
  saved: 'Le tue scelte sono state salvate. Grazie.',
  saveFailed: 'Non è stato possibile salvare. Riprova.',
  unsubscribedAll: 'Fatto: non riceverai più comunicazioni su nessun canale.',
  renewed: 'Grazie: le tue scelte sono state rinnovate.',
  nothingToRenew: 'Non c’è nessun consenso da rinnovare.',
  renewTitle: 'Conferma le tue scelte',
  renewText: 'Alcuni tuoi consensi stanno per scadere. Basta un clic per mantenerli come sono.',
  renew: 'Mantieni le mie scelte',
  otherActions: 'Altre azioni',
  unsubscribeAll: 'Annulla tutte le iscrizioni',
  unsubscribeAllHint: 'Non riceverai più comunicazioni, per nessuna finalità e su nessun canale.',
  history: 'Scarica la cronologia dei miei consensi',
  historyHint:
    'Un file JSON con le ricevute firmate di ogni tua scelta e tutti i dati che conserviamo su di te.',
  erase: 'Richiedi la cancellazione dei miei dati',
  eraseHint: 'Ti chiederemo una conferma.',
  eraseConfirmTitle: 'Cancellare i tuoi dati?',
  eraseConfirmText:
    'Cancelleremo il tuo indirizzo e i collegamenti con i tuoi dispositivi. Le ricevute dei tuoi consensi restano come prova, ma senza dati di contatto.',
  eraseConfirm: 'Sì, cancella i miei dati',
  cancel: 'Annulla',
  erasureRecorded: (d) => `Richiesta di cancellazione registrata ${il(d)}. Sarà eseguita a breve.`,
  erasureRecordedTitle: 'Richiesta di cancellazione registrata',
  confirmationUsed: 'Questa conferma è già stata usata o è scaduta: richiedi di nuovo la cancellazione.',
  unsubscribeTitle: (site) => `Annullare l’iscrizione alle comunicazioni di ${site}?`,
  unsubscribeText: 'Non riceverai più comunicazioni su nessun canale.',
  unsubscribeScoped: (p) => `Non riceverai più: ${p}.`,
  unsubscribeConfirm: 'Annulla l’iscrizione',
  unsubscribeDone: 'Fatto: non riceverai più queste comunicazioni.',
  unsubscribeDoneTitle: (site) => `Iscrizione alle comunicazioni di ${site} annullata`,
  sessionEnded: 'La sessione è scaduta. Apri di nuovo il link dall’email.',
  formStaleTitle: 'Modulo scaduto',
  formStale: 'Il modulo è scaduto o viene da un altro sito: ricarica la pagina.',
  backToPreferences: 'Torna alle tue preferenze',
  errorTitle: 'Link non valido',
  tokenErrors: {
    'invalid-token': 'Questo link non è valido: forse è incompleto o è stato modificato.',
    'token-expired': 'Questo link è scaduto.',
    'token-wrong-action': 'Questo link serve a un’altra azione.',
    'token-wrong-site': 'Questo link appartiene a un altro sito.',
    'token-key-revoked': 'Questo link è stato revocato.',
  },
  askNewLink: 'Usa il link di un’email più recente o chiedine uno nuovo al sito.',
};

const en: PageMessages = {
  title: (site) => `Your communication preferences · ${site}`,
  intro: 'Choose what we may contact you about, and on which channels. You can change your mind at any time.',
  channels: {
    email: 'Email',
    sms: 'Text messages',
    phone: 'Phone',
    post: 'Post',
    push: 'Push notifications',
  },
  on: 'Yes',
  off: 'No',
  expires: (d) => `Valid until ${d}`,
  expired: (d) => `Expired on ${d}: counts as no`,
  notDecided: 'Not chosen yet',
  save: 'Save my choices',
  saving: 'Saving…',
  saved: 'Your choices are saved. Thank you.',
  saveFailed: 'Could not save. Please try again.',
  unsubscribedAll: 'Done: you will not hear from us on any channel.',
  renewed: 'Thank you: your choices are renewed.',
  nothingToRenew: 'There is no consent to renew.',
  renewTitle: 'Confirm your choices',
  renewText: 'Some of your consents expire soon. One click keeps them as they are.',
  renew: 'Keep my choices',
  otherActions: 'Other actions',
  unsubscribeAll: 'Unsubscribe from everything',
  unsubscribeAllHint: 'Denies every purpose on every channel.',
  history: 'Download my consent history',
  historyHint:
    'A JSON file with the signed receipt of each of your choices and all the data we hold about you.',
  erase: 'Ask to erase my data',
  eraseHint: 'We will ask you to confirm.',
  eraseConfirmTitle: 'Erase your data?',
  eraseConfirmText:
    'We will erase your address and the links to your devices. The receipts of your consents stay as proof, without contact data.',
  eraseConfirm: 'Yes, erase my data',
  cancel: 'Cancel',
  erasureRecorded: (d) => `Erasure request recorded on ${d}. It will be carried out shortly.`,
  erasureRecordedTitle: 'Erasure requested',
  confirmationUsed: 'This confirmation was already used or has expired. Please ask again.',
  unsubscribeTitle: (site) => `Unsubscribe from ${site}?`,
  unsubscribeText: 'You will not hear from us on any channel.',
  unsubscribeScoped: (p) => `You will no longer receive: ${p}.`,
  unsubscribeConfirm: 'Unsubscribe',
  unsubscribeDone: 'Done: you are unsubscribed.',
  unsubscribeDoneTitle: (site) => `Unsubscribed from ${site}`,
  sessionEnded: 'Your session has ended. Open the link in the email again.',
  formStaleTitle: 'Form expired',
  formStale: 'This form has expired or comes from another site: reload the page.',
  backToPreferences: 'Back to your preferences',
  errorTitle: 'Link not valid',
  tokenErrors: {
    'invalid-token': 'This link is not valid: it may be incomplete or altered.',
    'token-expired': 'This link has expired.',
    'token-wrong-action': 'This link is for another action.',
    'token-wrong-site': 'This link belongs to another site.',
    'token-key-revoked': 'This link has been revoked.',
  },
  askNewLink: 'Use the link of a more recent email, or ask the site for a new one.',
};

export const PAGE_MESSAGES: Record<PageLanguage, PageMessages> = { it, en };

/**
 * A date as the page shows it (UTC, so that server and hydrated client print the same text). Italian writes
 * the first of the month as an ordinal ("1º marzo", read "primo"), which Intl does not.
 */
export function formatDate(ms: number, lang: PageLanguage): string {
  const text = new Intl.DateTimeFormat(lang === 'it' ? 'it-IT' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(ms);
  return lang === 'it' ? text.replace(/^1 /, '1º ') : text;
}

/**
 * The page language: explicit choice (link or `?lang=`), else the browser's Accept-Language, else the site's.
 */
export function pickLanguage(
  explicit: string | null | undefined,
  acceptLanguage: string | undefined,
  fallback: PageLanguage,
): PageLanguage {
  if (explicit === 'it' || explicit === 'en') return explicit;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { lang: tag.trim().slice(0, 2).toLowerCase(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { lang } of ranked) if (lang === 'it' || lang === 'en') return lang;
  return fallback;
}
