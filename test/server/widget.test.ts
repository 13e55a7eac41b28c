import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPES } from '../../src/protocol/problem.ts';
import type { Db } from '../../src/server/db/db.ts';
import { createPgliteDb } from '../../src/server/db/pglite.ts';
import { readWidgetFile } from '../../src/server/routes/widget.ts';
import { buildApp, SHOP_ORIGIN } from './helpers.ts';

// Static files touch no table: one unmigrated in-memory database is enough (the same on both drivers).
describe('the widget served at /assenso.js', () => {
  let dir: string;
  let db: Db;
  const script = 'window.assenso = 1;\n';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'assenso-dist-'));
    // The layout `vite build` writes: current files, and the same under a versioned path.
    for (const base of [dir, join(dir, '1.2.3')]) {
      await mkdir(join(base, 'chunks'), { recursive: true });
      await mkdir(join(base, 'i18n'), { recursive: true });
      await writeFile(join(base, 'assenso.js'), script);
      await writeFile(join(base, 'chunks', 'prefs.js'), 'export const p = 1;\n');
      await writeFile(join(base, 'i18n', 'de.js'), 'export const de = {};\n');
    }
    await writeFile(join(dir, 'secret.json'), '{}');
    await writeFile(join(dir, 'chunks', 'notes.txt'), 'private');
    db = createPgliteDb();
  });
  afterAll(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the script with its type, an ETag, CORP cross-origin and the SRI hash printed at start', async () => {
    const { app } = buildApp(db, { widgetDir: dir });
    const res = await app.request('/assenso.js', { headers: { origin: SHOP_ORIGIN } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(script);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    // Unpinned URL: revalidated, so that an upgrade never meets a stale cached copy.
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600, must-revalidate');
    const file = await readWidgetFile(dir, 'assenso.js');
    expect(file?.integrity).toBe(`sha384-${createHash('sha384').update(script).digest('base64')}`);
  });

  it('caches the versioned path for a year, and answers 304 to a matching ETag', async () => {
    const { app } = buildApp(db, { widgetDir: dir });
    for (const path of ['/1.2.3/assenso.js', '/1.2.3/chunks/prefs.js', '/1.2.3/i18n/de.js']) {
      const res = await app.request(path, { headers: { origin: SHOP_ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    }
    const first = await app.request('/1.2.3/assenso.js');
    const etag = first.headers.get('etag') ?? '';
    const again = await app.request('/1.2.3/assenso.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves the current chunks, revalidated, with CORS for import() from a configured page', async () => {
    const { app } = buildApp(db, { widgetDir: dir });
    for (const path of ['/chunks/prefs.js', '/i18n/de.js']) {
      const res = await app.request(path, { headers: { origin: SHOP_ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=3600, must-revalidate');
      expect(res.headers.get('access-control-allow-origin')).toBe(SHOP_ORIGIN);
    }
  });

  it.each([
    '/chunks/..%2fsecret.json',
    '/chunks/..%2f..%2fetc%2fpasswd',
    '/chunks/notes.txt',
    '/secret.json',
    '/9.9.9/assenso.js',
    '/..%2f/assenso.js',
    '/1.2.3/secret.json',
  ])('serves nothing else: %s is 404', async (path) => {
    const { app } = buildApp(db, { widgetDir: dir });
    const res = await app.request(path);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
  });

  it('answers a 404 problem saying how to build when the widget is not built', async () => {
    const { app } = buildApp(db, { widgetDir: join(dir, 'missing') });
    const res = await app.request('/assenso.js');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      type: PROBLEM_TYPES['not-found'],
      detail: expect.stringMatching(/npm run build/),
    });
  });
});
