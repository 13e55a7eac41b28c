/**
 * The real command, in real processes: `bin/assenso.js serve` on a temporary PGlite directory and on
 * PostgreSQL. A 2xx means committed: `kill -9` right after the answer loses nothing. PGlite holds its data
 * directory exclusively: a second server refuses with a clear message and the first keeps serving.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResponse, ConsentStateResponse } from '../../src/protocol/api.ts';
import { databases, POSTGRES_URL } from '../helpers/databases.ts';
import { makeReceipt, SHOP, SHOP_ORIGIN } from './helpers.ts';

const BIN = new URL('../../bin/assenso.js', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
/** PGlite's first start runs initdb in WebAssembly: slow on a loaded machine. */
const START_TIMEOUT = 180_000;

interface Spawned {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function run(args: string[], cwd: string, env: Record<string, string> = {}): Spawned {
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (b) => {
    out += b;
  });
  proc.stderr?.on('data', (b) => {
    out += b;
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

/** Starts `assenso serve --port 0` and resolves with its URL from the `listening` log line. */
async function serve(cwd: string, env: Record<string, string> = {}) {
  const server = run(['serve', '--port', '0', '--host', '127.0.0.1'], cwd, env);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line:\n${server.output()}`)),
      START_TIMEOUT,
    );
    const check = () => {
      const line = server
        .output()
        .split('\n')
        .find((l) => l.includes('"msg":"listening"'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    };
    server.proc.stdout?.on('data', check);
    server.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited:\n${server.output()}`));
    });
  });
  return { ...server, url };
}

async function postOne(url: string, receipt: ReturnType<typeof makeReceipt>) {
  const res = await fetch(`${url}/v1/receipts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
    body: JSON.stringify({ receipts: [receipt] }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as BatchResponse).results[0];
}

async function workDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'assenso-proc-'));
  await writeFile(
    join(dir, 'assenso.config.json'),
    JSON.stringify({ sites: [{ id: SHOP, origins: [SHOP_ORIGIN] }], rateLimit: false, logLevel: 'info' }),
  );
  return dir;
}

/**
 * Sends `n` one-receipt requests at once (committed together by group commit) and kills the server with
 * SIGKILL as soon as the first answer arrives. Returns the receipts whose 201 answer arrived in full.
 */
async function burstThenKill9(s: Spawned & { url: string }, n: number) {
  const receipts = Array.from({ length: n }, () => makeReceipt());
  const acknowledged: typeof receipts = [];
  let killed = false;
  await Promise.all(
    receipts.map(async (receipt) => {
      try {
        const res = await fetch(`${s.url}/v1/receipts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          body: JSON.stringify({ receipts: [receipt] }),
        });
        if (!killed) {
          killed = true;
          s.proc.kill('SIGKILL');
        }
        const body = (await res.json()) as BatchResponse;
        if (res.status === 200 && body.results[0]?.status === 201) acknowledged.push(receipt);
      } catch {
        // No complete answer before the server died: not acknowledged, may or may not be stored.
      }
    }),
  );
  await s.exited;
  return acknowledged;
}

/**
 * Posts a receipt, then a burst of concurrent ones, kills the server with SIGKILL on the burst's first answer,
 * restarts it: the receipt and every acknowledged one of the burst must be there.
 */
async function killAfterAck(cwd: string, env: Record<string, string>) {
  const first = await serve(cwd, env);
  const receipt = makeReceipt();
  let second: Awaited<ReturnType<typeof serve>> | undefined;
  try {
    const stored = await postOne(first.url, receipt);
    const acknowledged = await burstThenKill9(first, 40);
    expect(stored?.status).toBe(201);
    expect(acknowledged.length).toBeGreaterThan(0);
    second = await serve(cwd, env);
    const state = (await (
      await fetch(`${second.url}/v1/consent?site=${SHOP}&device=${receipt.deviceId}`)
    ).json()) as ConsentStateResponse;
    expect(state.decision?.receiptId).toBe(receipt.receiptId);
    const again = await postOne(second.url, receipt);
    expect(again?.status).toBe(200);
    if (!again || again.outcome === 'rejected' || !stored || stored.outcome === 'rejected')
      throw new Error('rejected');
    // The same signed receipt; the sequencer may have given it its leaf index since.
    const unsequenced = ({ leafIndex: _, ...signed }: typeof again.signed) => signed;
    expect(unsequenced(again.signed)).toEqual(unsequenced(stored.signed));
    for (const r of acknowledged) expect((await postOne(second.url, r))?.outcome).toBe('duplicate');
    return second;
  } catch (err) {
    first.proc.kill('SIGKILL');
    second?.proc.kill('SIGKILL');
    throw err;
  }
}

describe('assenso serve on PGlite', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await workDir();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'keeps an acknowledged receipt through kill -9, and refuses a second server on the same directory',
    async () => {
      const server = await killAfterAck(dir, {});
      try {
        const intruder = run(['serve', '--port', '0'], dir);
        expect(await intruder.exited).toBe(1);
        expect(intruder.output()).toMatch(/is in use by another assenso server \(pid \d+\)/);
        expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
        const receipt = makeReceipt();
        expect((await postOne(server.url, receipt))?.status).toBe(201);
        // The script tag printed at start is the documented snippet (docs/embedding.md): the versioned file, its
        // SRI hash (dist/sri.json, written by `vite build`, which `npm test` runs first), and `async`.
        const sri = JSON.parse(await readFile(join(ROOT, 'dist', 'sri.json'), 'utf8')) as {
          file: string;
          integrity: string;
        };
        expect(server.output()).toContain(
          `<script src=\\"${server.url}/${sri.file}\\" integrity=\\"${sri.integrity}\\" crossorigin=\\"anonymous\\" async></script>`,
        );
        server.proc.kill('SIGTERM');
        expect(await server.exited).toBe(0);
        expect(server.output()).toContain('"msg":"stopped"');
      } finally {
        server.proc.kill('SIGKILL');
      }
    },
    4 * START_TIMEOUT,
  );

  it(
    'applies the migrations with `assenso migrate` and exits 0',
    async () => {
      const fresh = await workDir();
      try {
        const migrate = run(['migrate'], fresh);
        expect(await migrate.exited).toBe(0);
        expect(migrate.output()).toMatch(/applied: 001-receipts\.sql/);
      } finally {
        await rm(fresh, { recursive: true, force: true });
      }
    },
    2 * START_TIMEOUT,
  );

  it('names the bad key of a configuration and exits 1', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'assenso-conf-'));
    try {
      await writeFile(join(bad, 'conf.json'), JSON.stringify({ sites: [{ id: SHOP, origins: ['*'] }] }));
      const proc = run(['serve', '--config', 'conf.json', '--port', '0'], bad);
      expect(await proc.exited).toBe(1);
      expect(proc.output()).toMatch(/sites\.0\.origins\.0: must be an origin/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});

const postgres = databases.find((d) => d.name === 'postgres');

describe.skipIf(!postgres?.available)('assenso serve on PostgreSQL', () => {
  const database = `assenso_proc_${randomBytes(5).toString('hex')}`;
  let dir: string;
  beforeAll(async () => {
    dir = await workDir();
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    await admin.end();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it(
    'keeps an acknowledged receipt through kill -9',
    async () => {
      const url = new URL(POSTGRES_URL);
      url.pathname = `/${database}`;
      const server = await killAfterAck(dir, { DATABASE_URL: url.toString() });
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    },
    4 * START_TIMEOUT,
  );
});
