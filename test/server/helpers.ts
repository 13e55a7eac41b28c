import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Receipt } from '../../src/protocol/receipt.ts';
import { RECEIPT_SCHEMA } from '../../src/protocol/version.ts';
import { createApp } from '../../src/server/app.ts';
import { parseConfig, type ServerConfig } from '../../src/server/config.ts';
import type { Db } from '../../src/server/db/db.ts';
import type { AppDeps } from '../../src/server/deps.ts';
import { createMemoryKeyring } from '../../src/server/log/keys.ts';
import { createMetrics } from '../../src/server/metrics.ts';

/** Timeout for a hook that creates a database: PGlite's start takes a minute or more on a loaded machine. */
export const DB_START_TIMEOUT = 240_000;

export const SHOP = 'shop';
export const SHOP_ORIGIN = 'https://shop.example';
export const BLOG = 'blog';
export const BLOG_ORIGIN = 'https://blog.example';

/** Two sites with one origin each; rate limits off unless the test sets them. */
export function testConfig(extra: Record<string, unknown> = {}): ServerConfig {
  return parseConfig({
    sites: [
      { id: SHOP, origins: [SHOP_ORIGIN] },
      { id: BLOG, origins: [BLOG_ORIGIN] },
    ],
    rateLimit: false,
    ...extra,
  });
}

/** A valid receipt for `siteId`, made now. */
export function makeReceipt(siteId = SHOP, overrides: Partial<Receipt> = {}): Receipt {
  const collectedAt = Date.now();
  return {
    schema: RECEIPT_SCHEMA,
    receiptId: randomUUID(),
    siteId,
    deviceId: randomBytes(16).toString('hex'),
    collectedAt,
    revision: '2026-01',
    noticeHash: `sha256:${'ab'.repeat(32)}`,
    language: 'it',
    method: 'accept-all',
    categories: { necessary: true, analytics: true },
    services: { matomo: true },
    expiresAt: collectedAt + 180 * 86_400_000,
    previousReceiptId: null,
    ...overrides,
  };
}

/** The app on `db` with an in-memory key, a controllable clock and a silent logger. */
export function buildApp(db: Db, overrides: Partial<AppDeps> = {}) {
  let time = Date.now();
  const deps: AppDeps = {
    db,
    config: testConfig(),
    keyring: createMemoryKeyring(),
    now: () => time,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    ...overrides,
  };
  return {
    app: createApp(deps),
    deps,
    /** Moves the server clock forward by `ms`. */
    advance(ms: number) {
      time += ms;
    },
  };
}

type App = ReturnType<typeof buildApp>['app'];

/** POSTs a body (object → JSON) to /v1/receipts from `origin` (null: no Origin header). */
export function postReceipts(
  app: App,
  body: unknown,
  opts: { origin?: string | null; contentType?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': opts.contentType ?? 'application/json',
    ...opts.headers,
  };
  const origin = opts.origin === undefined ? SHOP_ORIGIN : opts.origin;
  if (origin !== null) headers.origin = origin;
  return Promise.resolve(
    app.request('/v1/receipts', {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** How many of these receipt ids are stored (tests share one database per file and never count others' rows). */
export async function countReceipts(db: Db, ids: readonly string[]): Promise<number> {
  const res = await db.query<{ n: number | string }>(
    'SELECT count(*) AS n FROM receipts WHERE receipt_id = ANY($1::uuid[])',
    [[...ids]],
  );
  return Number(res.rows[0]?.n);
}

/** The ids of receipts. */
export const idsOf = (receipts: readonly { receiptId: string }[]) => receipts.map((r) => r.receiptId);

/**
 * Makes the database itself fail (a trigger raising an error) when the derived state of one of these devices
 * is written: after its receipts were inserted by the same statement or transaction.
 */
export async function failDerivedStateOf(db: Db, deviceIds: string[]): Promise<{ remove(): Promise<void> }> {
  const name = `fail_${randomBytes(6).toString('hex')}`;
  const list = deviceIds.map((id) => `'${id.replace(/[^0-9a-f]/g, '')}'`).join(', ');
  await db.query(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF NEW.device_id IN (${list}) THEN RAISE EXCEPTION 'disk full'; END IF;
       RETURN NEW;
     END $$`,
  );
  await db.query(
    `CREATE TRIGGER ${name} BEFORE INSERT ON device_consent FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  return {
    async remove() {
      await db.query(`DROP TRIGGER ${name} ON device_consent`);
      await db.query(`DROP FUNCTION ${name}()`);
    },
  };
}
