// Receipt-server ingest (issue 3): autocannon on loopback against `assenso serve` on PGlite and on
// PostgreSQL, one receipt per request and batches of 20, each receipt with a fresh id (setupRequest), against
// a bare Node HTTP server that parses the JSON and answers 201, all in the same run. Two runs per target:
// "max" (closed loop, N connections: the request rate it sustains) and "rated" (open loop at 30% of the bare
// server's rate: the p99 a site sees at that load). Afterwards every receipt acknowledged as stored must be
// in the database. Bounded: each run lasts `seconds`. Each max run also records the CPU time the server
// process (and, for PostgreSQL, its backends) spent per request, read from /proc: on a shared machine the
// request rate moves with the neighbours' load, the CPU a request costs much less.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import autocannon from 'autocannon';
import { freePort, startReceiptServer } from '../scripts/receipt-server.mjs';

const ORIGIN = 'http://127.0.0.1:9';
const SITE = 'bench';
const NOTICE = `sha256:${'ab'.repeat(32)}`;

// Bodies are built by string concatenation from one serialised template, each receipt id and device id made
// unique by a counter: generating them must cost the load generator far less than the servers' work, or the
// baseline would measure autocannon instead of the bare server.
const RUN = randomBytes(4).toString('hex');
let counter = 0;
const hex12 = (n) => n.toString(16).padStart(12, '0');

function receiptJson(now) {
  const n = counter++;
  return JSON.stringify({
    schema: 'assenso.receipt/1',
    receiptId: `${RUN}-0000-4000-8000-${hex12(n)}`,
    siteId: SITE,
    deviceId: `${RUN}${'0'.repeat(12)}${hex12(n)}`,
    collectedAt: now,
    revision: '2026-01',
    noticeHash: NOTICE,
    language: 'it',
    method: 'accept-all',
    categories: { necessary: true, analytics: true, marketing: false },
    services: { matomo: true, youtube: false },
    expiresAt: now + 182 * 86_400_000,
    previousReceiptId: null,
  });
}

function batchBody(size) {
  const now = Date.now();
  const items = [];
  for (let i = 0; i < size; i++) items.push(receiptJson(now));
  return `{"receipts":[${items.join(',')}]}`;
}

/** User + system CPU time of a process so far, in ms; null where /proc is not readable. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms (USER_HZ 100)
  } catch {
    return null;
  }
}

/** The PostgreSQL backends serving a database (loopback: the same machine, so their CPU can be read). */
async function backendPids(databaseUrl) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const res = await c.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    return res.rows.map((r) => r.pid);
  } finally {
    await c.end();
  }
}

/** Runs `fn`, returning its result with `cpu`: ms of CPU per request of `pids()` ({ server, database }). */
async function withCpu(pids, fn) {
  const sum = (list) => list.reduce((n, p) => (n === null || cpuMs(p) === null ? null : n + cpuMs(p)), 0);
  const { server, database = [] } = await pids();
  const before = [sum([server]), sum(database)];
  const generator = process.cpuUsage(); // autocannon runs in this process
  const result = await fn();
  const after = [sum([server]), sum(database)];
  const spent = process.cpuUsage(generator);
  const requests = Math.max(1, result.requests);
  const per = (i) => (before[i] === null || after[i] === null ? null : (after[i] - before[i]) / requests);
  return {
    ...result,
    cpu: {
      server: per(0),
      database: database.length ? per(1) : null,
      generator: (spent.user + spent.system) / 1000 / requests,
    },
  };
}

/**
 * The least CPU a receipt can cost on this machine, whatever the server: one Ed25519 signature of its leaf
 * entry (issue 3 signs every receipt) and PostgreSQL's backend time for the cheapest durable row (a uuid key
 * and the entry as jsonb, 20 rows per statement and commit). Both in ms, measured in this run.
 */
async function receiptFloor(databaseUrl) {
  const entry = Buffer.from(`{"receipt":${receiptJson(Date.now())},"receivedAt":${Date.now()}}`);
  const { privateKey } = generateKeyPairSync('ed25519');
  const signs = 4000;
  for (let i = 0; i < 200; i++) sign(null, entry, privateKey);
  const t0 = process.cpuUsage();
  for (let i = 0; i < signs; i++) sign(null, entry, privateKey);
  const t = process.cpuUsage(t0);
  const signMs = (t.user + t.system) / 1000 / signs;
  let insertMs = null;
  if (databaseUrl) {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    try {
      await c.query('CREATE TABLE bench_floor (id uuid PRIMARY KEY, entry jsonb NOT NULL)');
      const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const group = async () => {
        const ids = Array.from({ length: 20 }, () => randomUUID());
        await c.query('INSERT INTO bench_floor SELECT * FROM unnest($1::uuid[], $2::jsonb[])', [
          ids,
          ids.map(() => entry.toString()),
        ]);
      };
      for (let i = 0; i < 50; i++) await group();
      const before = cpuMs(pid);
      const groups = 1500;
      for (let i = 0; i < groups; i++) await group();
      const after = cpuMs(pid);
      if (before !== null && after !== null) insertMs = (after - before) / (groups * 20);
    } finally {
      await c.query('DROP TABLE IF EXISTS bench_floor');
      await c.end();
    }
  }
  return { signMs, insertMs };
}

/** `0.12 ms` or `0.12 + 0.30 ms` (server + database). */
export function cpuText(cpu) {
  if (!cpu || cpu.server === null) return 'n/a';
  return cpu.database === null
    ? `${cpu.server.toFixed(3)} ms`
    : `${cpu.server.toFixed(3)} + ${cpu.database.toFixed(3)} ms`;
}

/** One autocannon run; `tally` counts per-receipt outcomes from the answers. */
function run({ url, size, seconds, connections, rate }) {
  const tally = { stored: 0, other: 0, bad: 0, ids: [] };
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/v1/receipts`,
        connections,
        duration: seconds,
        ...(rate ? { overallRate: rate } : {}),
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', origin: ORIGIN },
            setupRequest(req) {
              return { ...req, body: batchBody(size) };
            },
            onResponse(status, body) {
              if (status < 200 || status > 299) {
                tally.bad += size;
                return;
              }
              try {
                const results = JSON.parse(body).results;
                if (!Array.isArray(results)) return; // the bare server
                for (const r of results) {
                  if (r.outcome !== 'stored') tally.other++;
                  else {
                    tally.stored++;
                    tally.ids.push(r.receiptId);
                  }
                }
              } catch {
                tally.bad += size;
              }
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          size,
          connections,
          targetRate: rate ?? null,
          rps: result.requests.average,
          receiptsPerSecond: result.requests.average * size,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests: result.requests.total,
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          tally,
        });
      },
    );
  });
}

async function startBare() {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [new URL('./bare-server.mjs', import.meta.url).pathname, String(port)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', () => reject(new Error('bare server exited')));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/**
 * How many of the acknowledged receipt ids are in the database, and how many rows there are in all (more than
 * acknowledged: requests still in flight when a timed run ends are committed but their answers not counted).
 */
async function checkCommitted(server, ids) {
  // PGlite holds its directory exclusively: stop the server before reading.
  if (server.driver === 'pglite') await server.terminate();
  let found = 0;
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await server.query(
      'SELECT count(*)::int AS n FROM receipts WHERE receipt_id = ANY($1::uuid[])',
      [ids.slice(i, i + 5000)],
    );
    found += rows[0].n;
  }
  const total = await server.query('SELECT count(*)::int AS n FROM receipts WHERE site_id = $1', [SITE]);
  return { found, total: total[0].n };
}

/**
 * @param {{ seconds?: number, connections?: number, ratedConnections?: number, drivers?: ('pglite'|'postgres')[], log?: (s: string) => void }} o
 */
export async function benchIngest(o = {}) {
  const seconds = o.seconds ?? 10;
  const connections = o.connections ?? 10;
  // The open-loop run needs more connections than the closed loop: autocannon keeps one request in flight per
  // connection, so 10 connections cap the rate at 10 / latency whatever the server could do. Browsers sending
  // receipts do not wait for each other; by Little's law 100 connections carry e.g. 5000 req/s at 20 ms.
  const ratedConnections = o.ratedConnections ?? 100;
  const log = o.log ?? console.log;
  const sizes = [1, 20];
  const out = { seconds, connections, ratedConnections, bare: {}, drivers: {} };

  const bare = await startBare();
  try {
    for (const size of sizes) {
      await run({ url: bare.url, size, seconds: 2, connections }); // warm-up
      out.bare[size] = await withCpu(
        async () => ({ server: bare.pid }),
        () => run({ url: bare.url, size, seconds, connections }),
      );
      log(
        `  bare, batch ${size}: ${out.bare[size].rps.toFixed(0)} req/s, p99 ${out.bare[size].p99} ms, ` +
          `${cpuText(out.bare[size].cpu)} CPU per request`,
      );
    }
  } finally {
    await bare.stop();
  }

  for (const driver of o.drivers ?? ['pglite', 'postgres']) {
    const server = await startReceiptServer({ driver, sites: [{ id: SITE, origins: [ORIGIN] }] });
    if (driver === 'postgres') {
      const f = await receiptFloor(server.databaseUrl);
      out.floor = { ...f, cores: cpus().length };
      log(
        `  floor: Ed25519 ${(f.signMs * 1000).toFixed(1)} µs per signature, PostgreSQL ${f.insertMs === null ? 'n/a' : `${(f.insertMs * 1000).toFixed(1)} µs`} per minimal row`,
      );
    }
    const d = { runs: {}, acknowledged: 0, committed: 0, rows: 0 };
    const pids = async () => ({
      server: server.pid,
      database: driver === 'postgres' ? await backendPids(server.databaseUrl) : [],
    });
    const ids = [];
    out.drivers[driver] = d;
    try {
      for (const size of sizes) {
        const warm = await run({ url: server.url, size, seconds: 2, connections });
        const max = await withCpu(pids, () => run({ url: server.url, size, seconds, connections }));
        const rate = Math.max(1, Math.ceil(0.3 * out.bare[size].rps));
        const rated = await run({ url: server.url, size, seconds, connections: ratedConnections, rate });
        for (const r of [warm, max, rated]) {
          d.acknowledged += r.tally.stored;
          ids.push(...r.tally.ids);
          r.tally.ids = [];
        }
        d.runs[size] = { max, rated };
        log(
          `  ${driver}, batch ${size}: max ${max.rps.toFixed(0)} req/s (p99 ${max.p99} ms, ${cpuText(max.cpu)} CPU per request); ` +
            `at ${rate} req/s: ${rated.rps.toFixed(0)} req/s, p99 ${rated.p99} ms`,
        );
      }
      const c = await checkCommitted(server, ids);
      d.committed = c.found;
      d.rows = c.total;
      log(
        `  ${driver}: ${d.acknowledged} receipts acknowledged as stored, ${d.committed} of them in the database`,
      );
    } finally {
      await server.stop();
    }
  }
  return out;
}
