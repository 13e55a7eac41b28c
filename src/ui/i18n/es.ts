import type { Messages } from './messages.ts';

/** Español. */
export const es: Messages = {
  bannerTitle: 'Respetamos tu privacidad',
  bannerText:
    'Usamos cookies y tecnologías similares estrictamente necesarias para el funcionamiento del sitio y, con tu consentimiento, otras para medir las visitas y mostrar contenido externo. Puedes aceptar todo, rechazar todo o elegir, y cambiar de opinión en cualquier momento.',
  acceptAll: 'Aceptar todo',
  rejectAll: 'Rechazar todo',
  customise: 'Personalizar',
  closeBanner: 'Cerrar y continuar sin aceptar',
  reasonRevision:
    'Nuestra política de cookies ha cambiado desde tu última elección. Vuelve a elegir, por favor.',
  reasonExpired: 'Tu elección anterior para {categories} ha caducado. Vuelve a elegir, por favor.',
  gpcHonoured: 'Tu navegador envió una señal Global Privacy Control, así que no activamos {categories}.',
  linkFailed:
    'Este enlace ha caducado o ya no es válido, así que las opciones de abajo solo se aplican a este navegador. Encontrarás un enlace nuevo en el próximo correo.',
  prefsTitle: 'Preferencias de cookies',
  prefsIntro:
    'Elige qué categorías de cookies y servicios permites. Las estrictamente necesarias están siempre activas porque el sitio no puede funcionar sin ellas.',
  save: 'Guardar mis elecciones',
  alwaysOn: 'Siempre activas',
  showServices: 'Servicios ({count})',
  cookies: 'Cookies',
  cookieName: 'Nombre',
  cookieDuration: 'Duración',
  cookiePurpose: 'Finalidad',
  providedBy: 'Proporcionado por {provider}',
  privacyPolicy: 'Política de privacidad',
  servicePrivacy: 'Política de privacidad de {service}',
  downloadReceipt: 'Descargar el recibo de mi consentimiento',
  closePrefs: 'Cerrar',
  saved: 'Tus elecciones se han guardado.',
  prefsFailed: 'No se ha podido cargar la configuración. Inténtalo de nuevo.',
  and: 'y',
};
