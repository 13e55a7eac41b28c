/**
 * @module
 * Serves the built widget so a site can self-host everything: `/assenso.js` and its lazily loaded chunks
 * (`/assenso-*.js`, `/assets/*`) from the build directory, with an ETag and long-lived caching.
 *
 * `/assenso.js` keeps one URL across versions, so it is cached for a long time only when the URL pins the
 * version (`/assenso.js?v=<hash>` as printed at start, next to its SRI hash); without `v` it is revalidated
 * hourly, so that an upgrade never leaves browsers holding a cached file that the page's new SRI hash rejects.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';

export interface WidgetFile {
  body: Uint8Array;
  etag: string;
  /** Subresource Integrity value: `sha384-<base64>`. */
  integrity: string;
  /** First 12 hex digits of the SHA-384: the `v` that pins this version. */
  version: string;
}

const YEAR = 31_536_000;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.(?:js|mjs|css|map)$/;

/** Reads and hashes one file of the build; undefined when it does not exist. */
export async function readWidgetFile(dir: string, name: string): Promise<WidgetFile | undefined> {
  let body: Buffer;
  try {
    body = await readFile(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR')
      return undefined;
    throw err;
  }
  const digest = createHash('sha384').update(body).digest();
  return {
    body,
    etag: `"${digest.toString('base64url').slice(0, 27)}"`,
    integrity: `sha384-${digest.toString('base64')}`,
    version: digest.toString('hex').slice(0, 12),
  };
}

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

export function widgetRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const dir = deps.widgetDir ? resolve(deps.widgetDir) : undefined;
  // Files are re-read only when their mtime changes (a rebuild while the server runs is picked up).
  const cache = new Map<string, { mtimeMs: number; file: WidgetFile }>();

  async function load(name: string): Promise<WidgetFile | undefined> {
    if (!dir || !FILE_NAME.test(name.split('/').pop() ?? '')) return undefined;
    const path = resolve(dir, name);
    if (!path.startsWith(dir + sep)) return undefined;
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === info.mtimeMs) return hit.file;
    const file = await readWidgetFile(dir, name);
    if (file) cache.set(path, { mtimeMs: info.mtimeMs, file });
    return file;
  }

  async function serve(c: Context<AppEnv>, name: string, immutable: boolean) {
    const file = await load(name);
    if (!file)
      throw new HttpProblem(
        404,
        'not-found',
        name === 'assenso.js' ? 'The widget is not built: run `npm run build`' : `No file ${name}`,
      );
    const pinned = immutable || c.req.query('v') === file.version;
    c.header(
      'Cache-Control',
      pinned ? `public, max-age=${YEAR}, immutable` : 'public, max-age=3600, must-revalidate',
    );
    c.header('ETag', file.etag);
    c.header('Cross-Origin-Resource-Policy', 'cross-origin');
    c.header('Content-Type', CONTENT_TYPES[name.split('.').pop() ?? 'js'] ?? 'application/octet-stream');
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifNoneMatch?.split(',').some((t) => t.trim().replace(/^W\//, '') === file.etag))
      return c.body(null, 304);
    return c.body(file.body as Uint8Array<ArrayBuffer>);
  }

  app.get('/assenso.js', (c) => serve(c, 'assenso.js', false));
  // Chunks carry a content hash in their name (Vite's default), so they never change under one URL.
  app.get('/:file{assenso-[A-Za-z0-9_.-]+}', (c) => serve(c, c.req.param('file'), true));
  app.get('/assets/:file', (c) => serve(c, `assets/${c.req.param('file')}`, true));
  return app;
}
