import type { DevicesMessages } from '../devices-i18n.ts';

/** Français: the "Your devices" section (its own small chunk, fetched when the section first shows). */
export const devices: DevicesMessages = {
  title: 'Vos appareils',
  intro:
    'Reliez vos navigateurs (téléphone, ordinateur) et vos choix de cookies vous suivent : un choix fait sur l’un vaut pour tous.',
  loading: 'Chargement de vos appareils…',
  alone: 'Ce navigateur n’est encore relié à aucun autre.',
  thisDevice: 'cet appareil',
  seen: 'Vu pour la première fois {first}, pour la dernière fois {last}',
  unlink: 'Délier',
  unlinkDevice: 'Délier {device}',
  unlinked: '{device} n’est plus relié.',
  unlinkedThis: 'Ce navigateur n’est plus relié à vos autres appareils.',
  link: 'Relier un autre appareil',
  linkHelp:
    'Scannez le code QR avec votre autre appareil, ou saisissez-y le code sous « Saisir le code d’un autre appareil ». Le code sert une fois, pendant 5 minutes.',
  showCode: 'Afficher un code',
  newCode: 'Afficher un nouveau code',
  codeShown: 'Votre code est {code}. Il est valable 5 minutes.',
  validFor: 'Valable encore {time}',
  expired: 'Le code a expiré. Affichez-en un nouveau.',
  qr: 'Code QR : ouvre cette page sur votre autre appareil et le relie avec le code {code}',
  enter: 'Saisir le code d’un autre appareil',
  claim: 'Relier cet appareil',
  claimed: 'Relié : vos choix de cookies vous suivent désormais sur ces appareils.',
  paired: 'Votre autre appareil est maintenant relié.',
  badCode: 'Ce code est inconnu, expiré ou déjà utilisé. Affichez un nouveau code sur votre autre appareil.',
  tooMany: 'Trop d’essais. Réessayez dans quelques minutes.',
  failed: 'Le serveur est injoignable. Réessayez plus tard.',
  askPair: 'Relier ce navigateur à l’appareil qui a affiché le code {code} ?',
  askPairHelp:
    'Les deux partageront vos choix de cookies, et chacun verra vos appareils reliés et pourra les délier. Choisissez « Relier » seulement si vous avez demandé ce code vous-même, sur l’un de vos appareils ; sinon, choisissez « Annuler ».',
  askEmail: 'Relier ce navigateur à la personne à qui le lien de cet e-mail a été envoyé ?',
  askEmailHelp:
    'Ce navigateur partagera les choix de cookies de cette personne et figurera parmi ses appareils. Choisissez « Relier » seulement si l’e-mail vous a été envoyé ; sinon, choisissez « Annuler » : les choix ici restent ceux de ce navigateur.',
  linkIt: 'Relier',
  cancel: 'Annuler',
  notLinked: 'Rien n’a été relié. Les choix ici sont ceux de ce navigateur seul.',
};
