import type { PrefsMessages } from './messages.ts';

/** English: the preference center's texts (`i18n/en-prefs.js`, loaded once the banner is up). */
export const prefs: PrefsMessages = {
  linkFailed:
    'This link has expired or is no longer valid, so the choices below apply to this browser only. Ask for a new link in your next email.',
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
  servicePrivacy: 'Privacy policy of {service}',
  downloadReceipt: 'Download my consent receipt',
  closePrefs: 'Close',
};
