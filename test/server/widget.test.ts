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
    await writeFile(join(dir, 'assenso.js'), script);
    await writeFile(join(dir, 'assenso-preferences-Ab12_x.js'), 'export const p = 1;\n');
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'assets', 'chunk-9f8e.js'), 'export const c = 1;\n');
    await writeFile(join(dir, 'secret.json'), '{}');
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

  it('caches for a year when the URL pins the version, and answers 304 to a matching ETag', async () => {
    const { app } = buildApp(db, { widgetDir: dir });
    const file = await readWidgetFile(dir, 'assenso.js');
    const pinned = await app.request(`/assenso.js?v=${file?.version}`);
    expect(pinned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const stale = await app.request('/assenso.js?v=000000000000');
    expect(stale.headers.get('cache-control')).toContain('must-revalidate');
    const again = await app.request('/assenso.js', {
      headers: { 'if-none-match': pinned.headers.get('etag') ?? '' },
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves lazily loaded chunks (hashed names) as immutable', async () => {
    const { app } = buildApp(db, { widgetDir: dir });
    for (const path of ['/assenso-preferences-Ab12_x.js', '/assets/chunk-9f8e.js']) {
      const res = await app.request(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it.each([
    '/assets/..%2fsecret.json',
    '/assets/..%2f..%2fetc%2fpasswd',
    '/assets/secret.json',
    '/secret.json',
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
