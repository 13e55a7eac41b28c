/**
 * @module
 * What the HTTP app is built from. `createApp(deps)` reads nothing else: no environment, no clock, no files
 * except through these. Tests build them with in-memory parts (`createMemoryKeyring`, in-memory PGlite).
 * Other parts of the server add their dependencies here as optional keys.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { Db } from './db/db.ts';
import type { Keyring } from './log/keys.ts';
import type { Metrics } from './metrics.ts';

export interface AppDeps {
  db: Db;
  config: ServerConfig;
  /** Ed25519 keys that sign receipts and checkpoints (src/server/log/keys.ts). */
  keyring: Keyring;
  /** Server clock, epoch ms. */
  now: () => number;
  logger: Logger;
  /** Prometheus registry; `createApp` makes one when absent. */
  metrics?: Metrics;
  /** Directory holding the built widget (`assenso.js` and its chunks); default `<package>/dist`. */
  widgetDir?: string;
}

/** Hono environment of the app: per-request values set by the app's middleware. */
export interface AppEnv {
  Variables: {
    /** Child logger carrying the request id. */
    log: Logger;
    requestId: string;
    /** Client IP (through `trustProxy` hops of X-Forwarded-For), used as the rate-limit key. */
    clientIp: string;
  };
}
