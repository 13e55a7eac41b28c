/**
 * @module
 * What the HTTP app is built from. `createApp(deps)` reads nothing else: no environment, no clock, no files
 * except through these. Tests build them with in-memory parts (`createMemoryKeyring`, in-memory PGlite).
 * Other parts of the server add their dependencies here as optional keys.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import type { Pseudonymizer } from './crypto/pseudonym.ts';
import type { Db } from './db/db.ts';
import type { AnswerHeaders } from './http/answer-headers.ts';
import type { LinkKeySource } from './email/tokens.ts';
import type { Keyring } from './log/keys.ts';
import type { Metrics } from './metrics.ts';
import type { ReceiptHook } from './services/record-receipts.ts';
import type { Protection } from './protection/protection.ts';

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
  /** Run inside the ingest transaction after new receipts are inserted (identity linking, subject state). */
  receiptHooks?: readonly ReceiptHook[];
  /** Directory holding the built widget (`assenso.js` and its chunks); default `<package>/dist`. */
  widgetDir?: string;
  /** Keyed hashes with the server's pseudonym secret (crypto/pseudonym.ts); identity routes need it. */
  pseudonymizer?: Pseudonymizer;
  /** Email-link signing keys (email/link-keys.ts); the email routes need them and `pseudonymizer`. */
  linkKeys?: LinkKeySource & { refresh?: () => Promise<void> };
  /** Admin keys, access log and encrypted contacts (protection/protection.ts); admin routes need it. */
  protection?: Protection;
}

/** Hono environment of the app: per-request values set by the app's middleware. */
export interface AppEnv {
  Variables: {
    /** The app's logger; `requestLog(c)` (http/observe.ts) gives the request's child, with its id. */
    logger: Logger;
    /** The request's child logger once made (read it through `requestLog(c)`). */
    log: Logger | undefined;
    /** Headers for the answer, gathered by the middleware (http/answer-headers.ts). */
    answerHeaders: AnswerHeaders;
    requestId: string;
    /** Client IP (through `trustProxy` hops of X-Forwarded-For), used as the rate-limit key. */
    clientIp: string;
  };
}
