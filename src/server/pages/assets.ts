/**
 * @module
 * The pages' static files: `page.css` (the widget's stylesheet + page layout) and the hydration script built
 * by vite (`dist/pages/preferences.js`, see build.ts). Both are served under content-hashed names, cached
 * for a year. When the script was not built (a development checkout), pages are sent without it and keep
 * working as plain forms.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface PageAssets {
  /** URL of the stylesheet. */
  stylesUrl: string;
  /** URL of the hydration script, or undefined when it is not built. */
  scriptUrl: string | undefined;
  /** Body and type of an asset by its file name, or undefined. */
  get(name: string): { body: string; type: string } | undefined;
}

const ASSET_BASE = '/p/assets/';

function readOptional(url: URL): string | undefined {
  try {
    return readFileSync(url, 'utf8');
  } catch {
    return undefined;
  }
}

const short = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** Loads the assets once, at start (small files, read synchronously). `distDir`: where vite wrote `pages/preferences.js` (default `<package>/dist/`). */
export function loadPageAssets(distDir?: string): PageAssets {
  // The widget's stylesheets: the banner's (tokens, buttons) and the preference center's (rows, switches).
  const widgetCss = ['styles.css', 'prefs.css']
    .map((f) => readOptional(new URL(`../../ui/${f}`, import.meta.url)) ?? '')
    .join('\n');
  const pageCss = readOptional(new URL('./page.css', import.meta.url)) ?? '';
  // :host only applies inside the widget's shadow root; on a page it would match nothing, so it is dropped.
  const css = `${widgetCss.replace(/:host\s*\{[^}]*\}/, '')}\n${pageCss}`;
  const dist = distDir
    ? new URL(`file://${distDir.replace(/\/?$/, '/')}`)
    : new URL('../../../dist/', import.meta.url);
  const js = readOptional(new URL('pages/preferences.js', dist));
  const files = new Map<string, { body: string; type: string }>();
  const cssName = `page-${short(css)}.css`;
  files.set(cssName, { body: css, type: 'text/css; charset=utf-8' });
  let scriptUrl: string | undefined;
  if (js) {
    const jsName = `preferences-${short(js)}.js`;
    files.set(jsName, { body: js, type: 'text/javascript; charset=utf-8' });
    scriptUrl = `${ASSET_BASE}${jsName}`;
  }
  return { stylesUrl: `${ASSET_BASE}${cssName}`, scriptUrl, get: (name) => files.get(name) };
}
