import { localize } from './notice.ts';
import type { ConsentDeps, ResolvedConfig, ResolvedService } from './types.ts';

/** The two texts of a gated iframe's placeholder, per language (`deps.language`, default English). */
const PLACEHOLDER: Record<string, [text: string, allow: string]> = {
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

/**
 * Fills the placeholder gating.ts put before a held iframe (`div.assenso-placeholder`): a region named after
 * the service (or category) and the iframe's `title` ("YouTube: Our video", so that several embeds of one
 * service can be told apart), the iframe's size (its height as a minimum), that title (`<strong>`, in the
 * page's language), a sentence and a button that allows just that service. Part of the delivery chunk: only
 * pages with gated iframes need it, and the iframe stays hidden until it is here. Every text is set as text;
 * `deps.text` (the host's own wording, given `{service}`, `{provider}` and `{title}`) wins over the built-in one.
 */
export function fillPlaceholder(
  cfg: ResolvedConfig,
  deps: ConsentDeps,
  allow: (id: string) => void,
  box: HTMLElement,
  frame: HTMLIFrameElement,
  id: string,
  svc: ResolvedService | undefined,
): void {
  if (box.firstChild) return; // filled already (two scans asked while the chunk was loading)
  const doc = box.ownerDocument;
  const lang = deps.language ?? 'en';
  const name = svc?.name ?? (localize(cfg.categories.find((c) => c.id === id)?.title, lang) || id);
  const title = frame.title.trim();
  const vars: Record<string, string> = { service: name, provider: svc?.provider ?? name, title };
  const own = PLACEHOLDER[lang] ?? PLACEHOLDER[lang.split('-')[0]!.toLowerCase()];
  const t = (el: HTMLElement, k: 'placeholder.text' | 'placeholder.allow', i: 0 | 1) => {
    const text = deps.text?.(k, vars);
    // Shown: the receipts of this page hash it too, as its template (one text for every service).
    deps.shown = {
      ...deps.shown,
      [k]:
        deps.text?.(k, { service: '{service}', provider: '{provider}', title: '{title}' }) ??
        (own ?? PLACEHOLDER.en!)[i],
    };
    // A language without built-in texts gets the English ones, marked as English.
    if (text == null && !own) el.lang = 'en';
    el.textContent =
      text ?? (own ?? PLACEHOLDER.en!)[i].replace(/\{(\w+)\}/g, (_, v: string) => vars[v] ?? '');
  };
  box.setAttribute('role', 'region');
  // It speaks the widget's language, which need not be the page's (WCAG 3.1.2).
  box.lang = lang;
  box.setAttribute('aria-label', title ? `${name}: ${title}` : name);
  // Held, the frame is hidden (`hidden`, maybe an inline `display`): shown for this one read of its box as the
  // page's CSS lays it out (a class, `aspect-ratio`), and hidden again as it was, in one task: never painted.
  const s = frame.style;
  const { hidden } = frame;
  const important = s.getPropertyPriority('display');
  frame.hidden = false;
  const display = s.removeProperty('display');
  const size = frame.getBoundingClientRect();
  // A frame as wide as its container's content (`width: 100%`, the usual fluid embed) is fluid: its placeholder
  // too, or it kept the width of the window it was measured in when the window grew.
  const parent = frame.parentElement;
  const pad = parent && getComputedStyle(parent);
  const fluid =
    pad &&
    Math.abs(parent.clientWidth - parseFloat(pad.paddingLeft) - parseFloat(pad.paddingRight) - size.width) <
      0.5;
  frame.hidden = hidden;
  s.setProperty('display', display, important);
  // The measured size is the frame's border box; and a `width="100%"` then holds the page's padding too.
  box.style.boxSizing = 'border-box';
  const [w, h] = ['width', 'height'].map((dim) => frame.getAttribute(dim));
  // Its attributes win (a `width="100%"` stays fluid; a number is pixels). The height is a minimum: with larger
  // text spacing or at 320 px the text outgrows the frame, and a fixed height spilled it onto the page below
  // (WCAG 1.4.12, 1.4.10).
  // Else the measured size, unless 0 (a hidden container: the box takes its text's size): its width, and its
  // shape as an aspect ratio, which follows the width when the window narrows (a fluid frame's), a minimum too.
  const px = (v: string | number) => `${v}${+v ? 'px' : ''}`;
  if (w || size.width) box.style.width = px(w || (fluid ? '100%' : size.width));
  if (h) box.style.minHeight = px(h);
  else if (size.height) box.style.aspectRatio = `${size.width} / ${size.height}`;
  box.style.setProperty('max-width', '100%');
  if (title) {
    const h = doc.createElement('strong');
    // The page's words, in the page's language ('' where it names none: unknown).
    h.lang = frame.closest<HTMLElement>('[lang]')?.lang ?? '';
    h.textContent = title;
    box.append(h);
  }
  const p = doc.createElement('p');
  t(p, 'placeholder.text', 0);
  const b = doc.createElement('button');
  b.type = 'button';
  t(b, 'placeholder.allow', 1);
  b.addEventListener('click', () => allow(svc?.id ?? id));
  box.append(p, b);
}
