/**
 * @module
 * The HTML shell of the hosted pages and the headers they are sent with: no caching (they show a person's
 * choices), no Referer (a link token must never travel on), and a strict CSP: scripts and styles only from
 * this server (no inline script or style), forms only to this server, never framed.
 */
import type { Context } from 'hono';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { PROPS_ID } from './document-ids.ts';

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers every hosted page (and the history download) is sent with. */
export function setPageHeaders(c: Context): void {
  c.header('Cache-Control', 'no-store');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Content-Security-Policy', PAGE_CSP);
  c.header('X-Frame-Options', 'DENY');
  c.header('X-Content-Type-Options', 'nosniff');
}

/** JSON that is safe inside a <script type="application/json"> block (no `</script>`, no `<!--`). */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export interface DocumentOptions {
  lang: string;
  title: string;
  body: VNode;
  /** Props for client.tsx; with `script`, the page is hydrated. */
  props?: unknown;
  script?: string;
  styles: string;
}

/** The whole page as a string (doctype included). */
export function renderDocument(opts: DocumentOptions): string {
  const html = renderToString(
    <html lang={opts.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        {/* No favicon request: nothing to fetch but the page's own files. */}
        <link rel="icon" href="data:," />
        <title>{opts.title}</title>
        <link rel="stylesheet" href={opts.styles} />
      </head>
      <body>
        <div id="assenso-page">{opts.body}</div>
        {opts.props !== undefined && opts.script && (
          <script
            type="application/json"
            id={PROPS_ID}
            dangerouslySetInnerHTML={{ __html: jsonForScript(opts.props) }}
          />
        )}
        {opts.script && <script type="module" src={opts.script} />}
      </body>
    </html>,
  );
  return `<!doctype html>${html}`;
}
