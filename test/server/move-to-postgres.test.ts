import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.ts';
import type { Db } from '../../src/server/db/db.ts';
import { createPgliteDb } from '../../src/server/db/pglite.ts';
import { signIdentity } from '../../src/server/identity-token.ts';
import { type RunningServer, startServer } from '../../src/server/main.ts';
import { runCommand } from '../helpers/cli.ts';
import { databases, POSTGRES_URL } from '../helpers/databases.ts';
import { makeReceipt } from './log/fixtures.ts';

const ORIGIN = 'https://shop.example';
const BIN = new URL('../../bin/assenso.js', import.meta.url).pathname;
const IDENTITY_SECRET = 'identity-secret-for-move-tests-0123456789';
const postgres = databases.find((d) => d.name === 'postgres')!;

/** A data directory with its config file, as an operator has it. */
async function makeDataDir(prefix: string) {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(
    join(dir, 'assenso.config.json'),
    JSON.stringify({
      sites: [
        {
          id: 'shop',
          origins: [ORIGIN],
          identity: { secrets: { k1: IDENTITY_SECRET } },
          purposes: [{ id: 'offers', title: 'Offers', channels: ['email'], lifetimeDays: 365 }],
        },
      ],
      publicUrl: 'https://consent.example',
      rateLimit: false,
    }),
  );
  const env: Record<string, string> = {
    ASSENSO_DATA_DIR: dir,
    ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url'),
    ASSENSO_CONTACT_KEYS: JSON.stringify({ current: 'c1', keys: { c1: randomBytes(32).toString('base64') } }),
  };
  return { dir, env };
}

/** A new, empty PostgreSQL schema, and the URL that puts the tables there. */
async function makeSchema() {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  return {
    schema,
    url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      try {
        await c.query(`SET search_path = ${schema}`);
        await c.query("SET TimeZone = 'UTC'");
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

const start = async (dir: string, env: Record<string, string>) =>
  startServer({
    config: await loadConfig({ env, cwd: dir }),
    env,
    port: 0,
    host: '127.0.0.1',
    logger: pino({ level: 'silent' }),
    widgetDir: join(dir, 'no-widget'),
  });

/** Every row of every table as PostgreSQL prints it (times in UTC), sorted: equal means byte for byte. */
async function dump(
  query: (sql: string) => Promise<Record<string, unknown>[]>,
): Promise<Record<string, string[]>> {
  const tables = (
    await query(
      `SELECT relname AS t FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'
       AND relname <> 'assenso_migrations' ORDER BY 1`,
    )
  ).map((r) => r.t as string);
  const out: Record<string, string[]> = {};
  for (const t of tables)
    out[t] = (await query(`SELECT row_to_json(x)::text AS j FROM ${t} x ORDER BY 1`)).map(
      (r) => r.j as string,
    );
  return out;
}

async function pgliteDump(dir: string) {
  const db = createPgliteDb(join(dir, 'pglite'));
  try {
    await db.query("SET TimeZone = 'UTC'");
    return await dump(async (sql) => (await db.query<Record<string, unknown>>(sql)).rows);
  } finally {
    await db.close();
  }
}

async function withPglite<T>(dir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = createPgliteDb(join(dir, 'pglite'));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function poll<T>(fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 120; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('timed out');
}

const checkpointOf = async (url: string, size: number) =>
  poll(async () => {
    const res = await fetch(`${url}/v1/log/shop/checkpoint`);
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { treeSize: number; rootHash: string; note: string };
    return body.treeSize === size ? body : undefined;
  });

describe.skipIf(!postgres.available)('assenso move-to-postgres', () => {
  let server: RunningServer | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  describe('an installation that used PGlite', () => {
    let dir: string;
    let env: Record<string, string>;
    let target: Awaited<ReturnType<typeof makeSchema>>;
    let token: string;
    const before: Record<string, unknown> = {};
    const devices = [0, 1, 2].map(() => randomBytes(16).toString('hex'));

    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${server!.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          origin: ORIGIN,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });

    beforeAll(async () => {
      ({ dir, env } = await makeDataDir('assenso-move-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      target = await makeSchema();
      cleanups.push(() => target.drop());

      const key = await runCommand(['admin-keys', 'create', '--role', 'admin', '--json'], { env, cwd: dir });
      expect(key.stderr).toBe('');
      token = (JSON.parse(key.stdout) as { token: string }).token;

      server = await start(dir, env);
      const sent = await api('POST', '/v1/receipts', {
        receipts: devices.map((deviceId) => makeReceipt('shop', { deviceId, collectedAt: Date.now() })),
      });
      expect(sent.status).toBe(200);
      const identified = await api('POST', '/v1/identify', {
        siteId: 'shop',
        deviceId: devices[0],
        token: signIdentity({ secret: IDENTITY_SECRET, kid: 'k1', siteId: 'shop', userId: 'u1' }),
      });
      expect(identified.status).toBe(200);
      before.subject = ((await identified.json()) as { subjectId: string }).subjectId;
      const links = await api('POST', '/v1/admin/links', {
        site: 'shop',
        userId: 'u1',
        email: 'u1@example.com',
      });
      expect(links.status).toBe(201);
      before.unsubscribe = new URL(
        ((await links.json()) as { unsubscribeUrl: string }).unsubscribeUrl,
      ).pathname;
      expect(
        (
          await api('PUT', '/v1/admin/preferences', {
            site: 'shop',
            userId: 'u1',
            preferences: { offers: { email: true } },
          })
        ).status,
      ).toBe(201);
      expect((await api('POST', '/v1/admin/erasure', { site: 'shop', userId: 'u2' })).status).toBe(202);
      expect((await api('POST', '/v1/admin/erasure/run', { site: 'shop' })).status).toBe(200);
      // 3 browser receipts and the API decision, all sequenced and under one signed checkpoint.
      before.checkpoint = await checkpointOf(server.url, 4);
      before.consent = await (await api('GET', `/v1/consent?site=shop&device=${devices[1]}`)).json();
      before.erasure = await (await api('GET', '/v1/admin/erasure?site=shop')).json();
      await server.close(); // signs the access log's head
      server = undefined;
      // What retention does to a receipt it detaches from its person: the receipt of device 0 keeps no subject,
      // though the device is still linked (the copy must not give it one back).
      await withPglite(dir, (db) =>
        db.query('UPDATE receipts SET subject_id = NULL, subject_salt = NULL WHERE device_id = $1', [
          devices[0],
        ]),
      );
      before.dump = await pgliteDump(dir);
    }, 600_000);

    it('copies every row byte for byte, advances the sequences and verifies before it commits', async () => {
      const moved = await runCommand(['move-to-postgres', '--to', target.url], { env, cwd: dir });
      expect(moved.stderr).toBe('');
      expect(moved.code).toBe(0);
      expect(moved.stdout).toMatch(/^receipts\s+4$/m);
      expect(moved.stdout).toMatch(/^identity_links\s+1$/m);
      expect(moved.stdout).toMatch(/^email_erasure_requests\s+1$/m);
      expect(moved.stdout).toMatch(/^email_erasure_requests\.id\s+1$/m);
      expect(moved.stdout).toMatch(/^identity_audit\.id\s+1$/m);
      expect(moved.stdout).toContain('receipts.receipts_subject');
      expect(moved.stdout).toContain('verify: site shop: OK (4 receipts, 4 leaves, ');
      expect(moved.stdout).toMatch(/access log: OK \(\d+ entries, 1 signed heads\)/);
      expect(moved.stdout).toContain('committed.');

      const after = await dump((sql) => target.query(sql));
      expect(Object.keys(after)).toEqual(Object.keys(before.dump as object));
      expect(after).toEqual(before.dump);
      const detached = await target.query('SELECT subject_id FROM receipts WHERE device_id = $1', [
        devices[0],
      ]);
      expect(detached).toEqual([{ subject_id: null }]);
      expect((before.dump as Record<string, string[]>).contacts).toHaveLength(1);
      expect((before.dump as Record<string, string[]>).access_log_heads).toHaveLength(1);
    }, 300_000);

    it('leaves a server on PostgreSQL that serves the same data and takes new records', async () => {
      const pgEnv = { ...env, DATABASE_URL: target.url };
      server = await start(dir, pgEnv);
      const checkpoint = (await (await api('GET', '/v1/log/shop/checkpoint')).json()) as { rootHash: string };
      expect(checkpoint).toEqual(before.checkpoint);
      expect(await (await api('GET', `/v1/consent?site=shop&device=${devices[1]}`)).json()).toEqual(
        before.consent,
      );
      expect(await (await api('GET', '/v1/admin/erasure?site=shop')).json()).toEqual(before.erasure);

      // The reviewer's hand copy answered 500 here: the identity sequence still stood at 1.
      const erasure = await api('POST', '/v1/admin/erasure', { site: 'shop', userId: 'u1' });
      expect(erasure.status).toBe(202);
      expect(((await erasure.json()) as { id: number }).id).toBe(2);
      const sent = await api('POST', '/v1/receipts', {
        receipts: [makeReceipt('shop', { collectedAt: Date.now() })],
      });
      expect(sent.status).toBe(200);
      const unsubscribed = await fetch(`${server.url}${before.unsubscribe}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(unsubscribed.status).toBe(200);
      expect(
        (
          await api('POST', '/v1/identify', {
            siteId: 'shop',
            deviceId: devices[2],
            token: signIdentity({ secret: IDENTITY_SECRET, kid: 'k1', siteId: 'shop', userId: 'u3' }),
          })
        ).status,
      ).toBe(200);
      // The log grows from the copied tree: 4 + the receipt + the unsubscribe receipt.
      const grown = await checkpointOf(server.url, 6);
      expect(grown.rootHash).not.toBe(checkpoint.rootHash);
      await server.close();
      server = undefined;

      const verified = await runCommand(['verify'], { env: pgEnv, cwd: dir });
      expect(verified.stdout).toContain('site shop: OK (6 receipts, 6 leaves');
      expect(verified.code).toBe(0);
      const kept = join(dir, 'kept-checkpoint.json');
      await writeFile(kept, JSON.stringify(before.checkpoint));
      expect((await runCommand(['verify', '--checkpoint', kept], { env: pgEnv, cwd: dir })).code).toBe(0);
      const accessLog = await runCommand(['access-log', 'verify'], { env: pgEnv, cwd: dir });
      expect(accessLog.stdout).toContain('access log: OK');
      expect(await target.query('SELECT id FROM identity_audit ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }]);
    }, 300_000);

    it('refuses a target that already holds receipts, and leaves it as it was', async () => {
      const rows = await target.query('SELECT count(*)::int AS n FROM receipts');
      const again = await runCommand(['move-to-postgres', '--to', target.url], { env, cwd: dir });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('the target already holds receipts');
      expect(again.stderr).toContain(`schema "${target.schema}"`);
      expect(again.stderr).toContain('Nothing was moved.');
      expect(again.stderr).not.toContain('    at ');
      expect(await target.query('SELECT count(*)::int AS n FROM receipts')).toEqual(rows);
    }, 300_000);
  });

  it('refuses a data directory a server holds, then a log that does not verify, leaving the target empty', async () => {
    const { dir, env } = await makeDataDir('assenso-move-refused-');
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const target = await makeSchema();
    cleanups.push(() => target.drop());
    const tables = () =>
      target.query(`SELECT relname FROM pg_class WHERE relnamespace = '${target.schema}'::regnamespace`);

    // A real server, in its own process, holding the data directory.
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let out = '';
      child.stdout.on('data', (b) => {
        out += b;
      });
      const url = await poll(async () => {
        const line = out.split('\n').find((l) => l.includes('"msg":"listening"'));
        return line ? (JSON.parse(line) as { url: string }).url : undefined;
      });
      const sent = await fetch(`${url}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ receipts: [makeReceipt('shop', { collectedAt: Date.now() })] }),
      });
      expect(sent.status).toBe(200);
      await checkpointOf(url, 1);
      const locked = await runCommand(['move-to-postgres', '--to', target.url], { env, cwd: dir });
      expect(locked.code).toBe(1);
      expect(locked.stderr).toContain(`is in use by another assenso server (pid ${child.pid})`);
      expect(await tables()).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }

    // A receipt edited in the PGlite database (its guard turned off by someone with DDL rights).
    await withPglite(dir, async (db) => {
      await db.query('ALTER TABLE receipts DISABLE TRIGGER receipts_append_only');
      await db.query(`UPDATE receipts SET entry = replace(entry, '"accept-all"', '"reject-all"')`);
      await db.query('ALTER TABLE receipts ENABLE TRIGGER receipts_append_only');
    });
    const broken = await runCommand(['move-to-postgres'], {
      env: { ...env, DATABASE_URL: target.url },
      cwd: dir,
    });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('the PGlite database itself does not verify');
    expect(broken.stderr).toContain('Nothing was moved');
    // One transaction: not even the migrated tables are left.
    expect(await tables()).toEqual([]);
  }, 600_000);
});
