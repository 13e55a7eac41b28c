import type { DevicesMessages } from '../devices-i18n.ts';

/** Español: the "Your devices" section (its own small chunk, fetched when the section first shows). */
export const devices: DevicesMessages = {
  title: 'Tus dispositivos',
  intro:
    'Vincula tus navegadores (teléfono, ordenador) y tus preferencias de cookies te siguen: una elección hecha en uno vale para todos.',
  loading: 'Cargando tus dispositivos…',
  alone: 'Este navegador aún no está vinculado a ningún otro.',
  thisDevice: 'este dispositivo',
  seen: 'Visto por primera vez {first}, por última vez {last}',
  unlink: 'Desvincular',
  unlinkDevice: 'Desvincular {device}',
  unlinked: '{device} ya no está vinculado.',
  unlinkedThis: 'Este navegador ya no está vinculado a tus otros dispositivos.',
  link: 'Vincular otro dispositivo',
  linkHelp:
    'Escanea el código QR con tu otro dispositivo o introduce allí el código en «Introduce el código de otro dispositivo». El código sirve una vez, durante 5 minutos.',
  showCode: 'Mostrar un código',
  newCode: 'Mostrar un código nuevo',
  codeShown: 'Tu código es {code}. Es válido durante 5 minutos.',
  validFor: 'Válido durante {time}',
  expired: 'El código ha caducado. Muestra uno nuevo.',
  qr: 'Código QR: abre esta página en tu otro dispositivo y lo vincula con el código {code}',
  enter: 'Introduce el código de otro dispositivo',
  claim: 'Vincular este dispositivo',
  claimed: 'Vinculado: tus preferencias de cookies ahora te siguen en estos dispositivos.',
  paired: 'Tu otro dispositivo ya está vinculado.',
  badCode:
    'Este código es desconocido, ha caducado o ya se ha usado. Muestra un código nuevo en tu otro dispositivo.',
  tooMany: 'Demasiados intentos. Vuelve a intentarlo en unos minutos.',
  failed: 'No se puede contactar con el servidor. Inténtalo más tarde.',
  askPair: '¿Vincular este navegador con el dispositivo que mostró el código {code}?',
  askPairHelp:
    'Ambos compartirán tus preferencias de cookies, y cada uno verá tus dispositivos vinculados y podrá desvincularlos. Elige «Vincular» solo si pediste tú este código, en un dispositivo tuyo; si no, elige «Cancelar».',
  askEmail: '¿Vincular este navegador con la persona a la que se envió el enlace de este correo?',
  askEmailHelp:
    'Este navegador compartiría las preferencias de cookies de esa persona y aparecería entre sus dispositivos. Elige «Vincular» solo si el correo se te envió a ti; si no, elige «Cancelar»: las preferencias aquí siguen siendo las de este navegador.',
  linkIt: 'Vincular',
  cancel: 'Cancelar',
  notLinked: 'No se vinculó nada. Las preferencias aquí son solo de este navegador.',
};
