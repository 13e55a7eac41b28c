import type { DevicesMessages } from '../devices-i18n.ts';

/** Deutsch: the "Your devices" section (its own small chunk, fetched when the section first shows). */
export const devices: DevicesMessages = {
  title: 'Ihre Geräte',
  intro:
    'Verknüpfen Sie Ihre Browser (Telefon, Computer), und Ihre Cookie-Einstellungen folgen Ihnen: Eine Entscheidung auf einem Gerät gilt auf allen.',
  loading: 'Ihre Geräte werden geladen…',
  alone: 'Dieser Browser ist noch mit keinem anderen verknüpft.',
  thisDevice: 'dieses Gerät',
  seen: 'Zuerst gesehen {first}, zuletzt gesehen {last}',
  unlink: 'Trennen',
  unlinkDevice: 'Trennen: {device}',
  unlinked: '{device} ist nicht mehr verknüpft.',
  unlinkedThis: 'Dieser Browser ist nicht mehr mit Ihren anderen Geräten verknüpft.',
  link: 'Weiteres Gerät verknüpfen',
  linkHelp:
    'Scannen Sie den QR-Code mit Ihrem anderen Gerät oder geben Sie dort den Code unter „Code eines anderen Geräts eingeben“ ein. Der Code gilt einmal, 5 Minuten lang.',
  showCode: 'Code anzeigen',
  newCode: 'Neuen Code anzeigen',
  codeShown: 'Ihr Code ist {code}. Er gilt 5 Minuten.',
  validFor: 'Gültig für {time}',
  expired: 'Der Code ist abgelaufen. Zeigen Sie einen neuen an.',
  qr: 'QR-Code: öffnet diese Seite auf Ihrem anderen Gerät und verknüpft es mit dem Code {code}',
  enter: 'Code eines anderen Geräts eingeben',
  claim: 'Dieses Gerät verknüpfen',
  claimed: 'Verknüpft: Ihre Cookie-Einstellungen folgen Ihnen jetzt auf diesen Geräten.',
  paired: 'Ihr anderes Gerät ist jetzt verknüpft.',
  badCode:
    'Dieser Code ist unbekannt, abgelaufen oder schon benutzt. Zeigen Sie auf dem anderen Gerät einen neuen an.',
  tooMany: 'Zu viele Versuche. Versuchen Sie es in ein paar Minuten erneut.',
  failed: 'Der Server ist nicht erreichbar. Versuchen Sie es später erneut.',
  askPair: 'Diesen Browser mit dem Gerät verknüpfen, das den Code {code} angezeigt hat?',
  askPairHelp:
    'Beide teilen dann Ihre Cookie-Einstellungen, und jedes sieht Ihre verknüpften Geräte und kann sie trennen. Wählen Sie „Verknüpfen“ nur, wenn Sie diesen Code selbst auf einem Ihrer Geräte angefordert haben; sonst wählen Sie „Abbrechen“.',
  askEmail: 'Diesen Browser mit der Person verknüpfen, an die der Link dieser E-Mail gesendet wurde?',
  askEmailHelp:
    'Dieser Browser übernimmt dann die Cookie-Einstellungen dieser Person und erscheint unter ihren Geräten. Wählen Sie „Verknüpfen“ nur, wenn die E-Mail an Sie gesendet wurde; sonst wählen Sie „Abbrechen“, und die Einstellungen hier bleiben die dieses Browsers.',
  linkIt: 'Verknüpfen',
  cancel: 'Abbrechen',
  notLinked: 'Es wurde nichts verknüpft. Die Einstellungen hier gelten nur für diesen Browser.',
};
