import type { BannerMessages } from './messages.ts';

/** English: the banner's texts (in the script tag's first file). */
export const enBanner: BannerMessages = {
  bannerTitle: 'We respect your privacy',
  bannerText:
    'We use cookies and similar technologies that are strictly necessary for the site to work and, with your consent, others to measure visits and show external content. You can accept all, reject all or choose, and change your mind at any time.',
  acceptAll: 'Accept all',
  rejectAll: 'Reject all',
  customise: 'Customise',
  closeBanner: 'Close and continue without accepting',
  reasonRevision: 'Our cookie policy has changed since your last choice. Please choose again.',
  reasonExpired: 'Your earlier choice for {categories} has expired. Please choose again.',
  gpcHonoured: 'Your browser sent a Global Privacy Control signal, so we keep {categories} off.',
  privacyPolicy: 'Privacy policy',
  saved: 'Your choices have been saved.',
  prefsFailed: 'The settings could not be loaded. Please try again.',
  and: 'and',
};
