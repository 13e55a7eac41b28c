/**
 * The two texts of a gated iframe's placeholder, per language. They ship in the main bundle (a returning
 * visitor who denied a service sees placeholders without the banner code ever loading). `{service}`.
 */
export const PLACEHOLDER: Record<string, [text: string, allow: string]> = {
  en: [
    'This content is provided by {service}, which may set cookies. It loads only if you allow it.',
    'Allow {service}',
  ],
  it: [
    'Questo contenuto è fornito da {service}, che può impostare cookie. Si carica solo se lo consenti.',
    'Consenti {service}',
  ],
  de: [
    'Dieser Inhalt wird von {service} bereitgestellt, das Cookies setzen kann. Er wird nur geladen, wenn Sie es erlauben.',
    '{service} erlauben',
  ],
  fr: [
    'Ce contenu est fourni par {service}, qui peut déposer des cookies. Il ne se charge que si vous l’autorisez.',
    'Autoriser {service}',
  ],
  es: [
    'Este contenido lo proporciona {service}, que puede instalar cookies. Solo se carga si lo permites.',
    'Permitir {service}',
  ],
};
