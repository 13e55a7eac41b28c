/**
 * The texts of the preference center's "Your devices" section. They ship in the section's chunk (the script
 * tag's `chunks/devices.js`), not in the banner's catalogs (src/ui/i18n/*.ts), so the first-visit bytes stay
 * as they are. Plain strings, rendered as text; `{name}` placeholders are filled by `format()`. German, French
 * and Spanish are fetched on first use (src/ui/i18n/devices-*.ts).
 */
export interface DevicesMessages {
  /** Heading of the section. */
  title: string;
  intro: string;
  loading: string;
  /** The browser is linked to no other one. */
  alone: string;
  /** Marks the current browser in the list. */
  thisDevice: string;
  /** `{first}`, `{last}`: dates. */
  seen: string;
  unlink: string;
  /** Accessible name of an Unlink button: contains the visible "Unlink". `{device}`. */
  unlinkDevice: string;
  /** Announced after an unlink. `{device}`. */
  unlinked: string;
  /** Announced after this browser was unlinked. */
  unlinkedThis: string;
  /** Heading of the pairing part. */
  link: string;
  linkHelp: string;
  showCode: string;
  newCode: string;
  /** Announced when a code is shown. `{code}`. */
  codeShown: string;
  /** Countdown under the code. `{time}`: m:ss. */
  validFor: string;
  expired: string;
  /** Text alternative of the QR code. `{code}`. */
  qr: string;
  /** Label of the input for a code shown on another device. */
  enter: string;
  claim: string;
  /** Announced after this browser joined another. */
  claimed: string;
  /** The other browser used the code shown here. */
  paired: string;
  badCode: string;
  tooMany: string;
  failed: string;
  /** The question about a pairing link opened here (`#assenso-pair=`). `{code}`: `ABCD-EFGH`. */
  askPair: string;
  /** What linking means, under it: why to choose Cancel for a code one did not ask for. */
  askPairHelp: string;
  /** The question about an email preference link opened here (`?assenso=`). */
  askEmail: string;
  askEmailHelp: string;
  /** The answers, equal buttons. */
  linkIt: string;
  cancel: string;
  /** Announced after Cancel. */
  notLinked: string;
}

const en: DevicesMessages = {
  title: 'Your devices',
  intro:
    'Link your browsers (phone, computer) and your cookie choices follow you: a choice made on one of them applies on all.',
  loading: 'Loading your devices…',
  alone: 'This browser is not linked to any other yet.',
  thisDevice: 'this device',
  seen: 'First seen {first}, last seen {last}',
  unlink: 'Unlink',
  unlinkDevice: 'Unlink {device}',
  unlinked: '{device} is no longer linked.',
  unlinkedThis: 'This browser is no longer linked to your other devices.',
  link: 'Link another device',
  linkHelp:
    'Scan the QR code with your other device, or enter the code there under "Enter a code from another device". The code works once, for 5 minutes.',
  showCode: 'Show a code',
  newCode: 'Show a new code',
  codeShown: 'Your code is {code}. It is valid for 5 minutes.',
  validFor: 'Valid for {time}',
  expired: 'The code has expired. Show a new one.',
  qr: 'QR code: opens this page on your other device and links it with the code {code}',
  enter: 'Enter a code from another device',
  claim: 'Link this device',
  claimed: 'Linked: your cookie choices now follow you on these devices.',
  paired: 'Your other device is now linked.',
  badCode: 'This code is unknown, expired or already used. Show a new code on your other device.',
  tooMany: 'Too many attempts. Try again in a few minutes.',
  failed: 'The server could not be reached. Try again later.',
  askPair: 'Link this browser with the device that showed the code {code}?',
  askPairHelp:
    'The two will share your cookie choices, and each will see your linked devices and be able to unlink them. Choose Link only if you asked for this code yourself, on a device of yours; otherwise choose Cancel.',
  askEmail: 'Link this browser to the person this email link was sent to?',
  askEmailHelp:
    'This browser would share that person’s cookie choices and be listed among their devices. Choose Link only if the email was sent to you; otherwise choose Cancel, and the choices here stay this browser’s own.',
  linkIt: 'Link',
  cancel: 'Cancel',
  notLinked: 'Nothing was linked. The choices here are this browser’s own.',
};

const it: DevicesMessages = {
  title: 'I tuoi dispositivi',
  intro:
    'Collega i tuoi browser (telefono, computer) e le tue scelte sui cookie ti seguono: una scelta fatta su uno vale per tutti.',
  loading: 'Caricamento dei tuoi dispositivi…',
  alone: 'Questo browser non è ancora collegato ad altri.',
  thisDevice: 'questo dispositivo',
  seen: 'Visto la prima volta {first}, l’ultima {last}',
  unlink: 'Scollega',
  unlinkDevice: 'Scollega {device}',
  unlinked: '{device} non è più collegato.',
  unlinkedThis: 'Questo browser non è più collegato agli altri tuoi dispositivi.',
  link: 'Collega un altro dispositivo',
  linkHelp:
    'Inquadra il codice QR con l’altro dispositivo, oppure inserisci lì il codice in «Inserisci il codice di un altro dispositivo». Il codice vale una volta sola, per 5 minuti.',
  showCode: 'Mostra un codice',
  newCode: 'Mostra un nuovo codice',
  codeShown: 'Il tuo codice è {code}. Vale 5 minuti.',
  validFor: 'Valido ancora {time}',
  expired: 'Il codice è scaduto. Mostrane uno nuovo.',
  qr: 'Codice QR: apre questa pagina sull’altro dispositivo e lo collega con il codice {code}',
  enter: 'Inserisci il codice di un altro dispositivo',
  claim: 'Collega questo dispositivo',
  claimed: 'Collegato: le tue scelte sui cookie ora ti seguono su questi dispositivi.',
  paired: 'L’altro dispositivo ora è collegato.',
  badCode: 'Codice sconosciuto, scaduto o già usato. Mostra un nuovo codice sull’altro dispositivo.',
  tooMany: 'Troppi tentativi. Riprova fra qualche minuto.',
  failed: 'Il server non risponde. Riprova più tardi.',
  askPair: 'Collegare questo browser al dispositivo che ha mostrato il codice {code}?',
  askPairHelp:
    'I due condivideranno le tue scelte sui cookie, e ciascuno vedrà i tuoi dispositivi collegati e potrà scollegarli. Scegli «Collega» solo se hai chiesto tu questo codice, su un tuo dispositivo; altrimenti scegli «Annulla».',
  askEmail: 'Collegare questo browser alla persona a cui è stato inviato il link dell’email?',
  askEmailHelp:
    'Questo browser condividerà le scelte sui cookie di quella persona e comparirà fra i suoi dispositivi. Scegli «Collega» solo se l’email è stata inviata a te; altrimenti scegli «Annulla»: le scelte qui restano di questo browser.',
  linkIt: 'Collega',
  cancel: 'Annulla',
  notLinked: 'Nessun collegamento. Le scelte qui sono solo di questo browser.',
};

/** German, French and Spanish: fetched (a small chunk each) the first time the section speaks them. */
const fetched: Record<string, DevicesMessages> = {};
const more: Record<string, () => Promise<{ devices: DevicesMessages }>> = {
  de: () => import('./i18n/devices-de.ts'),
  fr: () => import('./i18n/devices-fr.ts'),
  es: () => import('./i18n/devices-es.ts'),
};

/**
 * The section's texts for a language tag (`it`, `it-CH`, …); English when there are none. For German, French
 * and Spanish, English until their texts have arrived, then `arrived` is called (once) to render again.
 */
export function devicesMessages(lang: string, arrived?: () => void): DevicesMessages {
  const l = lang.toLowerCase().split('-')[0]!;
  if (l === 'it') return it;
  const load = more[l];
  if (load && arrived) {
    delete more[l];
    load().then(
      (m) => {
        fetched[l] = m.devices;
        arrived();
      },
      () => {
        more[l] = load; // offline: tried again on the next render
      },
    );
  }
  return fetched[l] ?? en;
}
