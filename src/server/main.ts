/**
 * @module
 * Node entry: configuration and environment → dependencies (database, keys, clock, logger) → the app on an
 * HTTP server. `startServer` is what `assenso serve` runs; tests and the e2e harness can call it too.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { createPseudonymizer, loadPseudonymSecret } from './crypto/pseudonym.ts';
import type { ServerConfig } from './config.ts';
import { migrate } from './db/migrate.ts';
import { openDatabase } from './db/open.ts';
import type { AppDeps } from './deps.ts';
import { createLogger } from './logger.ts';
import { loadKeyring } from './log/keys.ts';
import { logOrigin } from './log/checkpoint.ts';
import { startSequencer } from './log/sequencer.ts';
import { createMetrics } from './metrics.ts';
import { startEmail } from './email/server.ts';
import { startProtection } from './protection/server.ts';
import { readWidgetFile } from './routes/widget.ts';
import { packageVersion } from './version.ts';

export interface StartOptions {
  config: ServerConfig;
  env: Record<string, string | undefined>;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  host: string;
  logger?: Logger;
  /** The widget build directory; default `<package>/dist`. */
  widgetDir?: string;
}

export interface RunningServer {
  /** `http://host:port` actually listened on. */
  url: string;
  port: number;
  deps: AppDeps;
  /** Stops accepting connections, lets in-flight requests finish, closes the database. */
  close(): Promise<void>;
}

/** `<package>/dist`, from `src/server/main.ts` or the compiled `lib/server/main.js` alike. */
export function defaultWidgetDir(): string {
  return fileURLToPath(new URL('../../dist/', import.meta.url));
}

/** Slow clients may not hold a connection open forever (slowloris). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const SHUTDOWN_GRACE_MS = 10_000;

export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(opts.config.logLevel);
  const now = () => Date.now();
  const opened = openDatabase({ dataDir: opts.config.dataDir, env: opts.env });
  try {
    const applied = await migrate(opened.db);
    logger.info({ database: opened.description, applied }, 'database ready');
    const keyring = await loadKeyring({ dataDir: opts.config.dataDir, env: opts.env, now });
    const widgetDir = opts.widgetDir ?? defaultWidgetDir();
    const deps: AppDeps = {
      db: opened.db,
      config: opts.config,
      keyring,
      now,
      logger,
      metrics: createMetrics(),
      widgetDir,
      pseudonymizer: createPseudonymizer(
        await loadPseudonymSecret({ dataDir: opts.config.dataDir, env: opts.env }),
      ),
    };
    // Admin keys, access log, encrypted contact data; signs access-log heads and runs retention on a schedule.
    const protection = await startProtection({ ...deps, env: opts.env });
    deps.protection = protection.protection;
    // Email links: link-signing keys, and the webhook worker when a site has webhooks.
    const email = await startEmail(deps, { env: opts.env, dataDir: opts.config.dataDir });
    const app = createApp(deps);

    const server = await new Promise<Server>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: opts.port, hostname: opts.host }, () => resolve(s as Server));
      s.once('error', reject);
    });
    server.headersTimeout = HEADERS_TIMEOUT_MS;
    server.requestTimeout = REQUEST_TIMEOUT_MS;
    const port = (server.address() as AddressInfo).port;
    const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    const url = `http://${shownHost}:${port}`;
    logger.info(
      { url, sites: opts.config.sites.map((s) => s.id), kid: keyring.publicKeys()[0]?.kid },
      'listening',
    );
    await announceWidget(widgetDir, opts.config.publicUrl ?? url, logger);
    // The transparency log: leaf indexes and signed checkpoints (one sequencer at a time across instances).
    const sequencer = startSequencer({
      db: opened.db,
      keyring,
      now,
      origin: (siteId) => logOrigin(siteId, opts.config.publicUrl),
      onError: (err) => logger.error({ err }, 'sequencer run failed'),
      ...(deps.metrics ? { metrics: deps.metrics } : {}),
    });

    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        const timer = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        server.closeIdleConnections();
        await done;
        clearTimeout(timer);
        await sequencer.stop();
        await email.stop();
        await protection.stop();
        await opened.close();
        logger.info('stopped');
      })();
      return closing;
    };
    return { url, port, deps, close };
  } catch (err) {
    await opened.close().catch(() => {});
    throw err;
  }
}

/**
 * Logs the script tag of the versioned widget with its SRI hash (docs/server.md), or that the widget is not
 * built. The versioned path is immutable, so the hash stays valid as long as the page uses that path.
 */
async function announceWidget(dir: string, base: string, logger: Logger): Promise<void> {
  const path = `${packageVersion()}/assenso.js`;
  const file = existsSync(dir) ? await readWidgetFile(dir, path) : undefined;
  if (!file) {
    logger.warn({ widgetDir: dir }, 'widget not built: /assenso.js answers 404 until `npm run build`');
    return;
  }
  const src = new URL(`/${path}`, base).toString();
  logger.info(
    { src, integrity: file.integrity },
    `widget: <script src="${src}" integrity="${file.integrity}" crossorigin="anonymous" async></script>`,
  );
}
