// The published server entry: `npm run build` compiles src/server to lib/, and `assenso/server` (the
// package's own export, resolved by self-reference) gives site backends signIdentity and the rest.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('assenso/server, compiled', () => {
  it('builds to lib/ with the files the server reads at run time', { timeout: 180_000 }, async () => {
    const build = spawnSync(process.execPath, ['scripts/build-server.mjs'], { cwd: root, encoding: 'utf8' });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    for (const f of [
      'lib/server/index.js',
      'lib/server/index.d.ts',
      'lib/server/db/migrations/001-receipts.sql',
      'lib/ui/styles.css',
    ])
      expect(existsSync(join(root, f)), f).toBe(true);

    const server = await import('assenso/server' as string);
    const token: string = server.signIdentity({
      secret: 'a'.repeat(32),
      kid: 'k1',
      siteId: 'shop',
      userId: 'u-1',
      ttlSeconds: 60,
    });
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header).toMatchObject({ alg: 'HS256', kid: 'k1' });
    expect(payload).toMatchObject({ sub: 'u-1', aud: 'shop' });
    expect(typeof server.createApp).toBe('function');
    expect(server.listUnsubscribeHeaders).toBeTypeOf('function');
  });
});
