/**
 * @module
 * Serves the built widget so a site can self-host everything (the layout `vite build` writes to dist/):
 *
 *   /assenso.js, /chunks/*.js, /i18n/*.js      the current build; revalidated hourly (ETag), because the
 *                                              names stay the same across versions
 *   /<version>/assenso.js, /<version>/…        the same files under a versioned path: immutable, cached a
 *                                              year; the script tag with its SRI hash (printed at start,
 *                                              docs/server.md) points here
 *
 * Chunks are loaded with `import()`, which is a CORS request when the page is on another origin: these
 * answers carry the CORS headers of the configured origins, and `Cross-Origin-Resource-Policy: cross-origin`.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { type Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { cors } from '../http/cors.ts';

export interface WidgetFile {
  body: Uint8Array;
  etag: string;
  /** Subresource Integrity value: `sha384-<base64>`. */
  integrity: string;
}

const YEAR = 31_536_000;
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.(?:js|mjs|css|map)$/;
/** A build version path segment, like `0.1.0` or `1.2.0-beta.1`. */
const VERSION = /^\d+\.\d+\.\d+(?:-[A-Za-z0-9.-]+)?$/;

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

  async function serve(c: Context<AppEnv>, name: string, versioned: boolean) {
    const file = await load(name);
    if (!file)
      throw new HttpProblem(
        404,
        'not-found',
        name === 'assenso.js' ? 'The widget is not built: run `npm run build`' : `No file ${name}`,
      );
    c.header(
      'Cache-Control',
      versioned ? `public, max-age=${YEAR}, immutable` : 'public, max-age=3600, must-revalidate',
    );
    c.header('ETag', file.etag);
    c.header('Cross-Origin-Resource-Policy', 'cross-origin');
    c.header('Content-Type', CONTENT_TYPES[name.split('.').pop() ?? 'js'] ?? 'application/octet-stream');
    const ifNoneMatch = c.req.header('if-none-match');
    if (ifNoneMatch?.split(',').some((t) => t.trim().replace(/^W\//, '') === file.etag))
      return c.body(null, 304);
    return c.body(file.body as Uint8Array<ArrayBuffer>);
  }

  const corsHeaders = cors(deps.config, { methods: ['GET', 'HEAD', 'OPTIONS'], headers: [] });
  app.get('/assenso.js', corsHeaders, (c) => serve(c, 'assenso.js', false));
  app.get('/:dir{chunks|i18n}/:file', corsHeaders, (c) =>
    serve(c, `${c.req.param('dir')}/${c.req.param('file')}`, false),
  );
  app.get('/:version/assenso.js', corsHeaders, (c) => {
    const version = c.req.param('version');
    if (!VERSION.test(version)) throw new HttpProblem(404, 'not-found', `No resource at ${c.req.path}`);
    return serve(c, `${version}/assenso.js`, true);
  });
  app.get('/:version/:dir{chunks|i18n}/:file', corsHeaders, (c) => {
    const { version, dir, file } = c.req.param();
    if (!VERSION.test(version)) throw new HttpProblem(404, 'not-found', `No resource at ${c.req.path}`);
    return serve(c, `${version}/${dir}/${file}`, true);
  });
  return app;
}
