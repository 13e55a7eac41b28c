/**
 * @module
 * `GET /v1/keys`: the public keys that sign receipts and checkpoints, current first, retired ones kept
 * (an auditor verifies old receipts with them).
 */
import { Hono } from 'hono';
import type { AppDeps, AppEnv } from '../deps.ts';

export function keysRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/v1/keys', (c) => {
    // Keys change only on rotation (at a restart); a short cache keeps rotations visible quickly.
    c.header('Cache-Control', 'public, max-age=300');
    return c.json({ keys: deps.keyring.publicKeys().map((k) => ({ alg: 'Ed25519', ...k })) });
  });
  return app;
}
