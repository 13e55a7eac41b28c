import css from './styles.css?inline';

/** Theme tokens a site may set (`--assenso-accent`, `--assenso-bg-dark`, …): custom property names only. */
const TOKEN = /^--assenso-[a-z0-9-]+$/;

/**
 * Styles the shadow root without any inline style attribute: a constructable stylesheet (allowed under a
 * strict `style-src`), else a `<style>` carrying the page's nonce. Theme tokens go through CSSOM
 * `setProperty`, which takes a value and nothing else, so a hostile token cannot inject rules.
 */
export function adoptStyles(root: ShadowRoot, tokens: Record<string, string>, nonce?: string): void {
  let own: CSSStyleSheet;
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    const base = new CSSStyleSheet();
    base.replaceSync(css);
    own = new CSSStyleSheet();
    root.adoptedStyleSheets = [base, own];
  } else {
    const sheet = (text: string) => {
      const el = document.createElement('style');
      if (nonce) el.nonce = nonce;
      el.textContent = text;
      root.append(el);
      return el.sheet!;
    };
    sheet(css);
    own = sheet('');
  }
  own.insertRule(':host{}');
  const rule = own.cssRules[0] as CSSStyleRule;
  for (const [name, value] of Object.entries(tokens)) {
    if (TOKEN.test(name) && typeof value === 'string') rule.style.setProperty(name, value);
  }
}
