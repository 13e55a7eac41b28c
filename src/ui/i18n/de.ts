import type { Messages } from './messages.ts';

/** Deutsch. */
export const de: Messages = {
  bannerTitle: 'Wir respektieren Ihre Privatsphäre',
  bannerText:
    'Wir verwenden Cookies und ähnliche Technologien, die für den Betrieb der Website unbedingt erforderlich sind, und mit Ihrer Einwilligung weitere, um Besuche zu messen und externe Inhalte anzuzeigen. Sie können alle akzeptieren, alle ablehnen oder selbst wählen und Ihre Entscheidung jederzeit ändern.',
  acceptAll: 'Alle akzeptieren',
  rejectAll: 'Alle ablehnen',
  customise: 'Anpassen',
  closeBanner: 'Schließen und ohne Einwilligung fortfahren',
  reasonRevision:
    'Unsere Cookie-Richtlinie hat sich seit Ihrer letzten Entscheidung geändert. Bitte wählen Sie erneut.',
  reasonExpired: 'Ihre frühere Entscheidung für {categories} ist abgelaufen. Bitte wählen Sie erneut.',
  gpcHonoured:
    'Ihr Browser hat ein Global-Privacy-Control-Signal gesendet, daher aktivieren wir Folgendes nicht: {categories}.',
  linkFailed:
    'Dieser Link ist abgelaufen oder nicht mehr gültig, daher gelten die folgenden Einstellungen nur für diesen Browser. Einen neuen Link finden Sie in der nächsten E-Mail.',
  prefsTitle: 'Cookie-Einstellungen',
  prefsIntro:
    'Wählen Sie, welche Kategorien von Cookies und Diensten Sie erlauben. Unbedingt erforderliche sind immer aktiv, weil die Website ohne sie nicht funktioniert.',
  save: 'Auswahl speichern',
  alwaysOn: 'Immer aktiv',
  showServices: 'Dienste ({count})',
  cookies: 'Cookies',
  cookieName: 'Name',
  cookieDuration: 'Dauer',
  cookiePurpose: 'Zweck',
  providedBy: 'Anbieter: {provider}',
  privacyPolicy: 'Datenschutzerklärung',
  servicePrivacy: 'Datenschutzerklärung von {service}',
  downloadReceipt: 'Meinen Einwilligungsnachweis herunterladen',
  closePrefs: 'Schließen',
  saved: 'Ihre Auswahl wurde gespeichert.',
  prefsFailed: 'Die Einstellungen konnten nicht geladen werden. Bitte versuchen Sie es erneut.',
  and: 'und',
};
