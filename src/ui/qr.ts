/**
 * The QR code of a pairing URL, as `<assenso-qr text="…">`: a custom element that draws an SVG into its own
 * shadow root, so neither renderer (Preact, or the widget's DOM patcher, which knows no SVG namespace) ever
 * touches it. The SVG is built element by element with `createElementNS` and attributes: no markup string is
 * parsed anywhere (strict CSP with Trusted Types), and the URL only ever reaches the encoder. The encoder
 * (`uqr`) is loaded the first time a code is drawn. The element's text alternative (role img, aria-label)
 * is set by whoever renders it (src/ui/Pairing.tsx).
 */
const SVG = 'http://www.w3.org/2000/svg';
/** Light modules around the code (the QR specification asks for 4). */
const QUIET = 4;
/** Pixels per module: a version-4 code (33 modules, a 60-character URL at level M) is 164 px wide. */
const SCALE = 4;

/** The `d` of one path covering the dark modules: one rectangle per horizontal run. */
export function qrPath(modules: boolean[][]): string {
  let d = '';
  modules.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      if (!row[x]) continue;
      const from = x;
      while (row[x + 1]) x++;
      d += `M${from + QUIET} ${y + QUIET}h${x - from + 1}v1H${from + QUIET}z`;
    }
  });
  return d;
}

/** An `<svg>` of the modules: black on a white square (scanners want dark on light, in either theme). */
export function qrSvg(modules: boolean[][]): SVGSVGElement {
  const n = modules.length + 2 * QUIET;
  const el = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>) => {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  };
  const svg = el('svg', {
    viewBox: `0 0 ${n} ${n}`,
    width: n * SCALE,
    height: n * SCALE,
    'shape-rendering': 'crispEdges',
    'aria-hidden': 'true',
    focusable: 'false',
  });
  svg.append(
    el('rect', { width: n, height: n, fill: '#fff' }),
    el('path', { d: qrPath(modules), fill: '#000' }),
  );
  return svg;
}

export const QR_TAG = 'assenso-qr';

/** Defines `<assenso-qr>` once per page (another copy of the widget may have done it already). */
export function defineQr(): void {
  const registry = globalThis.customElements;
  if (!registry || registry.get(QR_TAG)) return;
  registry.define(
    QR_TAG,
    class extends HTMLElement {
      _t = '';
      get text(): string {
        return this._t;
      }
      set text(value: string) {
        if (value === this._t) return;
        this._t = value;
        const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
        import('./qr-encode.ts').then(
          ({ qrModules }) => {
            if (this._t === value) root.replaceChildren(...(value ? [qrSvg(qrModules(value))] : []));
          },
          (e) => console.warn('[assenso] the QR code could not be drawn:', e),
        );
      }
    },
  );
}

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      /** A QR code of `text` (src/ui/qr.ts). */
      'assenso-qr': HTMLAttributes<HTMLElement> & { text: string };
    }
  }
}
