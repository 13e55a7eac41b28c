import type { Messages } from './messages.ts';

/** Français. */
export const fr: Messages = {
  bannerTitle: 'Nous respectons votre vie privée',
  bannerText:
    'Nous utilisons des cookies et technologies similaires strictement nécessaires au fonctionnement du site et, avec votre consentement, d’autres pour mesurer les visites et afficher des contenus externes. Vous pouvez tout accepter, tout refuser ou choisir, et changer d’avis à tout moment.',
  acceptAll: 'Tout accepter',
  rejectAll: 'Tout refuser',
  customise: 'Personnaliser',
  closeBanner: 'Fermer et continuer sans accepter',
  reasonRevision:
    'Notre politique relative aux cookies a changé depuis votre dernier choix. Veuillez choisir à nouveau.',
  reasonExpired: 'Votre choix précédent pour {categories} a expiré. Veuillez choisir à nouveau.',
  gpcHonoured:
    "Votre navigateur a envoyé un signal Global Privacy Control : nous n'activons pas {categories}.",
  linkFailed:
    'Ce lien a expiré ou n’est plus valide : les choix ci-dessous ne valent que pour ce navigateur. Vous trouverez un nouveau lien dans le prochain e-mail.',
  prefsTitle: 'Préférences en matière de cookies',
  prefsIntro:
    'Choisissez les catégories de cookies et de services que vous autorisez. Les cookies strictement nécessaires sont toujours actifs car le site ne peut pas fonctionner sans eux.',
  save: 'Enregistrer mes choix',
  alwaysOn: 'Toujours actifs',
  showServices: 'Services ({count})',
  cookies: 'Cookies',
  cookieName: 'Nom',
  cookieDuration: 'Durée',
  cookiePurpose: 'Finalité',
  providedBy: 'Fourni par {provider}',
  privacyPolicy: 'Politique de confidentialité',
  servicePrivacy: 'Politique de confidentialité de {service}',
  downloadReceipt: 'Télécharger le reçu de mon consentement',
  closePrefs: 'Fermer',
  saved: 'Vos choix ont été enregistrés.',
  prefsFailed: 'Les paramètres n’ont pas pu être chargés. Veuillez réessayer.',
  and: 'et',
};
