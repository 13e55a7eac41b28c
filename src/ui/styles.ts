import css from './styles.css?inline';

/** Theme tokens a site may set (`--assenso-accent`, `--assenso-bg-dark`, …): custom property names only. */
const TOKEN = /^--assenso-[a-z0-9-]+$/;

/**
 * Adds a stylesheet to the shadow root without any inline style attribute: a constructable stylesheet
 * (allowed under a strict `style-src`), else a `<style>` carrying the page's nonce.
 */
export function addStyles(root: ShadowRoot, text: string, nonce?: string): CSSStyleSheet {
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(text);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return sheet;
  }
  const el = document.createElement('style');
  if (nonce) el.nonce = nonce;
  el.textContent = text;
  root.append(el);
  return el.sheet!;
}

/**
 * The widget's base styles, then the theme tokens through CSSOM `setProperty`, which takes a value and
 * nothing else, so a hostile token cannot inject rules.
 */
export function adoptStyles(root: ShadowRoot, tokens: Record<string, string>, nonce?: string): void {
  addStyles(root, css, nonce);
  const own = addStyles(root, ':host{}', nonce);
  const rule = own.cssRules[0] as CSSStyleRule;
  for (const [name, value] of Object.entries(tokens)) {
    if (TOKEN.test(name) && typeof value === 'string') rule.style.setProperty(name, value);
  }
}
