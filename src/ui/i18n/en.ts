import type { Messages } from './messages.ts';

/** English. */
export const en: Messages = {
  bannerTitle: 'We respect your privacy',
  bannerText:
    'We use cookies and similar technologies that are strictly necessary for the site to work and, with your consent, others to measure visits and show external content. You can accept all, reject all or choose, and change your mind at any time.',
  acceptAll: 'Accept all',
  rejectAll: 'Reject all',
  customise: 'Customise',
  closeBanner: 'Close and continue without accepting',
  reasonRevision: 'Our cookie policy has changed since your last choice. Please choose again.',
  reasonExpired: 'Your earlier choice for {categories} has expired. Please choose again.',
  gpcHonoured: 'Your browser sent a Global Privacy Control signal, so {categories} stay off.',
  prefsTitle: 'Cookie preferences',
  prefsIntro:
    'Choose which categories of cookies and services you allow. Strictly necessary ones are always on because the site cannot work without them.',
  save: 'Save my choices',
  alwaysOn: 'Always on',
  showServices: 'Services ({count})',
  cookies: 'Cookies',
  cookieName: 'Name',
  cookieDuration: 'Duration',
  cookiePurpose: 'Purpose',
  providedBy: 'Provided by {provider}',
  privacyPolicy: 'Privacy policy',
  servicePrivacy: 'Privacy policy of {service}',
  downloadReceipt: 'Download my consent receipt',
  closePrefs: 'Close',
  saved: 'Your choices have been saved.',
  and: 'and',
};
