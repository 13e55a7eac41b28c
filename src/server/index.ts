/**
 * `assenso/server`: build the receipt server into your own Node process, or use its parts.
 *
 * @example
 * import { createApp, loadConfig, startServer } from 'assenso/server';
 * const server = await startServer({ config: await loadConfig({ env: process.env }), env: process.env, port: 0, host: '127.0.0.1' });
 */
// The protocol pieces a custom endpoint needs (docs/protocol.md, "Writing your own endpoint").
export { canonicalJson } from '../protocol/canonical.ts';
export { parseReceipt } from '../protocol/receipt.ts';
export { createApp } from './app.ts';
export { runCli } from './cli.ts';
export type { LoadConfigOptions, RateLimitConfig, ServerConfig, SiteConfig } from './config.ts';
export { ConfigError, loadConfig, parseConfig } from './config.ts';
export { DataDirLockedError } from './db/data-dir-lock.ts';
export type { Db, Queryable, QueryResult } from './db/db.ts';
export { migrate } from './db/migrate.ts';
export { openDatabase } from './db/open.ts';
export { createPgliteDb } from './db/pglite.ts';
export { createPostgresDb } from './db/postgres.ts';
export type { AppDeps, AppEnv } from './deps.ts';
export { HttpProblem } from './errors.ts';
export type { ListUnsubscribeHeaders } from './email/list-unsubscribe.ts';
export { listUnsubscribeHeaders } from './email/list-unsubscribe.ts';
export type { WebhookEvent } from './email/webhook-events.ts';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from './email/webhook-signature.ts';
export type { SignIdentityOptions } from './identity-token.ts';
export { MAX_IDENTITY_TTL_SECONDS, signIdentity } from './identity-token.ts';
export type { Keyring, SigningKey } from './log/keys.ts';
export { createMemoryKeyring, loadKeyring } from './log/keys.ts';
export type { Metrics } from './metrics.ts';
export { createMetrics } from './metrics.ts';
export type { RunningServer, StartOptions } from './main.ts';
export { startServer } from './main.ts';
export type { ReceiptHook, ReceiptRecorder } from './services/record-receipts.ts';
export { createReceiptRecorder } from './services/record-receipts.ts';
