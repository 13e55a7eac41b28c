// A tiny static server for the demo site: `npm start`, the e2e harness and the benchmarks all serve demo/
// (and the built widget from dist/) through this one file. Plain node:http, no framework: it must start in
// milliseconds and behave the same everywhere.
//
// What it adds to a plain file server, each for a reason:
// - `endpoint`: the receipt server's URL is written into the widget configuration of every page (inline
//   `<script type="application/json" data-assenso-config>`, `data-endpoint` attributes and JSON config files),
//   so the demo's files keep one neutral value and each run points them at its own server.
// - `csp`: a strict Content Security Policy with a fresh nonce per HTML response, put on every executable
//   `<script>` and `<style>` of the page, gated `type="text/plain"` scripts too (under a CSP with nonces the
//   widget runs only gated scripts that carry the page's nonce), and violation reports collected at /__csp-report.
// - `pages`: extra in-memory files (test and benchmark pages) without writing into demo/.
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const DEMO_DIR = join(ROOT, 'demo');
export const DIST_DIR = join(ROOT, 'dist');

export const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.vtt': 'text/vtt; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** The strict policy of issue 2: nonce + strict-dynamic, no inline styles, Trusted Types with one named policy. */
export function strictCsp(nonce) {
  return [
    `script-src 'nonce-${nonce}' 'strict-dynamic'`,
    "object-src 'none'",
    "base-uri 'none'",
    `style-src 'self' 'nonce-${nonce}'`,
    "require-trusted-types-for 'script'",
    'trusted-types assenso',
    'report-uri /__csp-report',
  ].join('; ');
}

const CONFIG_SCRIPT = /(<script\b[^>]*\bdata-assenso-config\b[^>]*>)([\s\S]*?)(<\/script>)/gi;
const EXECUTABLE_TAG = /<(script|style)\b(?![^>]*\bnonce=)([^>]*)>/gi;

/** Points a parsed widget configuration (an object with `endpoint` or `siteId`) at `endpoint`. */
function withEndpoint(config, endpoint) {
  if (config && typeof config === 'object' && ('endpoint' in config || 'siteId' in config))
    return { ...config, endpoint };
  return config;
}

/** Rewrites the endpoint in a page's inline configuration and `data-endpoint` attributes. */
export function rewriteEndpoint(html, endpoint) {
  return html
    .replace(CONFIG_SCRIPT, (all, open, body, close) => {
      try {
        // `<` is escaped so that a value can never close the script element.
        const json = JSON.stringify(withEndpoint(JSON.parse(body), endpoint), null, 2).replace(
          /</g,
          '\\u003c',
        );
        return `${open}${json}${close}`;
      } catch {
        return all;
      }
    })
    .replace(/\bdata-endpoint="[^"]*"/g, `data-endpoint="${endpoint.replace(/"/g, '&quot;')}"`);
}

/**
 * Adds `nonce` to every executable script, every gated `text/plain` script (under a CSP with nonces the widget
 * runs only those carrying the page's nonce) and every style element.
 */
export function addNonces(html, nonce) {
  return html.replace(EXECUTABLE_TAG, (all, tag, attrs) => {
    if (
      tag.toLowerCase() === 'script' &&
      /\btype\s*=\s*["']?text\/plain/i.test(attrs) &&
      !/\bdata-assenso\b/i.test(attrs)
    )
      return all;
    return `<${tag} nonce="${nonce}"${attrs}>`;
  });
}

async function fileIn(dir, urlPath) {
  const file = normalize(join(dir, urlPath));
  if (file !== dir && !file.startsWith(dir + sep)) return undefined;
  try {
    const s = await stat(file);
    if (s.isDirectory()) return fileIn(dir, join(urlPath, 'index.html'));
    return s.isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the server (not listening yet). Paths resolve in `demo/` first, then `/dist/<file>` and bare
 * `/<file>` in `dist/` (so `/assenso.js` works as it does on the receipt server).
 * A page given as an object may carry `delayMs`: the server waits that long before answering it (the benchmark's
 * slow parser-blocking script, without request interception, which would turn the browser's HTTP cache off).
 * @param {{ endpoint?: string, csp?: boolean, pages?: Record<string, string | {body: string, type?: string, delayMs?: number}>,
 *   headers?: Record<string, string>, demoDir?: string, distDir?: string,
 *   handle?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean> }} [options]
 */
export function createDemoServer(options = {}) {
  const demoDir = resolve(options.demoDir ?? DEMO_DIR);
  const distDir = resolve(options.distDir ?? DIST_DIR);
  /** CSP violation reports the browser sent (each the parsed JSON body). */
  const cspReports = [];

  async function resolvePath(pathname) {
    const page = options.pages?.[pathname];
    if (page !== undefined) {
      const p = typeof page === 'string' ? { body: page } : page;
      return {
        body: Buffer.from(p.body),
        type: p.type ?? CONTENT_TYPES[extname(pathname) || '.html'],
        delayMs: p.delayMs,
      };
    }
    const file =
      (await fileIn(demoDir, pathname)) ??
      (pathname.startsWith('/dist/')
        ? await fileIn(distDir, pathname.slice(5))
        : await fileIn(distDir, pathname));
    if (!file) return undefined;
    return { body: await readFile(file), type: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' };
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/__csp-report' && req.method === 'POST') {
        const chunks = [];
        for await (const c of req) chunks.push(c);
        try {
          cspReports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          cspReports.push({ unparsable: Buffer.concat(chunks).toString('utf8') });
        }
        res.writeHead(204).end();
        return;
      }
      // A backend for the demo's dynamic parts (demo/backend.mjs: the sign-in that makes identity tokens).
      if (options.handle && (await options.handle(req, res))) return;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      const found = await resolvePath(decodeURIComponent(url.pathname));
      if (!found && url.pathname === '/favicon.ico') {
        // Browsers ask for it on every site; the demo has none, and a 404 would be console noise in every test.
        res.writeHead(204, { 'cache-control': 'max-age=86400' }).end();
        return;
      }
      if (!found) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found\n');
        return;
      }
      let { body } = found;
      // The versioned widget files (`/0.1.0/assenso.js`, what the documented snippet loads) are immutable,
      // cached as the receipt server caches them; everything else is served fresh.
      const immutable = /^\/(dist\/)?\d+\.\d+\.\d+[^/]*\//.test(url.pathname);
      const headers = {
        'content-type': found.type,
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-store',
        ...options.headers,
      };
      const isHtml = found.type.startsWith('text/html');
      if (isHtml || found.type.startsWith('application/json')) {
        let text = body.toString('utf8');
        if (options.endpoint && isHtml) text = rewriteEndpoint(text, options.endpoint);
        if (options.endpoint && !isHtml) {
          try {
            text = JSON.stringify(withEndpoint(JSON.parse(text), options.endpoint), null, 2);
          } catch {
            // not JSON after all: served as it is
          }
        }
        if (options.csp && isHtml) {
          const nonce = randomBytes(16).toString('base64');
          text = addNonces(text, nonce);
          headers['content-security-policy'] = strictCsp(nonce);
        }
        body = Buffer.from(text);
      }
      headers['content-length'] = String(body.length);
      if (found.delayMs) await new Promise((r) => setTimeout(r, found.delayMs));
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  });

  return {
    server,
    cspReports,
    /** Listens (port 0 = a free one) and resolves with the origin, e.g. `http://127.0.0.1:40123`. */
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolveListen, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const addr = server.address();
          resolveListen(`http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`);
        });
      });
    },
    close() {
      return new Promise((resolveClose) => {
        server.closeAllConnections?.();
        server.close(() => resolveClose());
      });
    },
  };
}
