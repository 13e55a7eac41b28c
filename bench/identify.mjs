// Identity at scale (issue 4): identify and consent-lookup latency under concurrent load on PostgreSQL with
// 1,000,000 receipts and 100,000 subjects (200,000 linked devices), generated with generate_series, against a
// plain primary-key lookup (`SELECT … FROM receipts WHERE receipt_id = $1`) on the same pool in the same run.
//
//   node bench/identify.mjs [--receipts 1000000] [--subjects 100000] [--requests 4000] [--concurrency 16] [--no-write]
//
// It calls the identity service and the subject-consent read the server itself uses (through tsx), on a fresh
// PostgreSQL database that it drops at the end. Results are printed and appended to docs/benchmarks.md
// (its own section "Identity: …", replacing the previous one), unless --no-write.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { register } from 'tsx/esm/api';
import { ROOT } from '../scripts/demo-server.mjs';
import { createPostgresDatabase, postgresReachable } from '../scripts/receipt-server.mjs';

register();
const { createPostgresDb } = await import('../src/server/db/postgres.ts');
const { migrate } = await import('../src/server/db/migrate.ts');
const { createPseudonymizer } = await import('../src/server/crypto/pseudonym.ts');
const { createIdentityService } = await import('../src/server/identity/service.ts');
const { subjectConsent } = await import('../src/server/identity/subject-consent.ts');
const { signIdentity } = await import('../src/server/identity-token.ts');

const { values: args } = parseArgs({
  options: {
    receipts: { type: 'string', default: '1000000' },
    subjects: { type: 'string', default: '100000' },
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
    'no-write': { type: 'boolean', default: false },
  },
});
const RECEIPTS = Number(args.receipts);
const SUBJECTS = Number(args.subjects);
const DEVICES = SUBJECTS * 2;
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const SITE = 'bench';
const KID = 'b1';
const SECRET = randomBytes(32).toString('base64url');

if (!(await postgresReachable())) {
  console.error('bench/identify: PostgreSQL is not reachable (TEST_DATABASE_URL or 127.0.0.1:5432)');
  process.exit(1);
}

const database = await createPostgresDatabase();
const db = createPostgresDb(database.url, { max: CONCURRENCY + 2 });
try {
  await migrate(db);
  const now = Date.now();
  const t0 = performance.now();
  // Devices d<i> (md5 of i) belong to subject i % SUBJECTS; receipt g belongs to device g % DEVICES.
  await db.query(
    `INSERT INTO identity_links (site_id, device_id, subject_id, via, browser, linked_at, first_seen, last_seen)
     SELECT $1, md5('d' || g), 's_' || md5('s' || (g % $2)), 'token', 'Chrome · Linux', $3, $3, $3
     FROM generate_series(0, $4 - 1) g`,
    [SITE, SUBJECTS, now, DEVICES],
  );
  // subject_id is given, so the receipts trigger has nothing to look up; entry is the canonical leaf JSON.
  await db.query(
    `INSERT INTO receipts (receipt_id, site_id, device_id, subject_id, method, collected_at, received_at, entry,
                           leaf_hash, kid, sig)
     SELECT id, $1, dev, 's_' || md5('s' || ((g % $2) % $3)), 'preferences', t, t,
       '{"receipt":{"categories":{"analytics":' || (g % 2 = 0) || ',"marketing":' || (g % 3 = 0) ||
       ',"necessary":true},"collectedAt":' || t || ',"deviceId":"' || dev || '","expiresAt":' || (t + 15552000000) ||
       ',"language":"en","method":"preferences","noticeHash":"sha256:' || repeat('a', 64) ||
       '","previousReceiptId":null,"receiptId":"' || id || '","revision":"1","schema":"assenso.receipt/1",' ||
       '"services":{},"siteId":"' || $1 || '"},"receivedAt":' || t || '}',
       md5(id::text), 'k', 's'
     FROM (SELECT g, gen_random_uuid() AS id, md5('d' || (g % $2)) AS dev, ($4::bigint - g * 10) AS t
           FROM generate_series(0, $5 - 1) g) x`,
    [SITE, DEVICES, SUBJECTS, now, RECEIPTS],
  );
  await db.query('ANALYZE');
  const generatedSeconds = (performance.now() - t0) / 1000;
  console.log(
    `generated ${RECEIPTS} receipts, ${SUBJECTS} subjects, ${DEVICES} devices in ${generatedSeconds.toFixed(1)} s`,
  );

  const receiptIds = (
    await db.query('SELECT receipt_id FROM receipts TABLESAMPLE SYSTEM (1) LIMIT 5000')
  ).rows.map((r) => r.receipt_id);
  const device = (i) => (i % DEVICES).toString();
  const linkedDevices = (
    await db.query(`SELECT md5('d' || g) AS d FROM generate_series(0, 4999) g`)
  ).rows.map((r) => r.d);
  const identity = createIdentityService({
    db,
    now: () => Date.now(),
    pseudonymizer: createPseudonymizer(randomBytes(32)),
    identitySecrets: () => ({ [KID]: SECRET }),
  });
  const pick = (list) => list[Math.floor(Math.random() * list.length)];

  /** Runs `fn` REQUESTS times with CONCURRENCY in flight; latencies in ms. */
  async function load(fn) {
    const latencies = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const i = next++;
          const t = performance.now();
          await fn(i);
          latencies.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return { rate: REQUESTS / seconds, p50: q(0.5), p99: q(0.99) };
  }

  // Warm the pool and caches alike for every case.
  await load((i) =>
    db.query('SELECT entry FROM receipts WHERE receipt_id = $1', [receiptIds[i % receiptIds.length]]),
  );
  const results = {
    'primary-key lookup (baseline)': await load(() =>
      db.query('SELECT entry FROM receipts WHERE receipt_id = $1', [pick(receiptIds)]),
    ),
    'consent lookup, linked device (subject merge)': await load(() =>
      subjectConsent(db, SITE, pick(linkedDevices), Date.now()),
    ),
    'identify (verify token, replay check, link, attach)': await load((i) =>
      identity.identify({
        siteId: SITE,
        deviceId: randomBytes(16).toString('hex'),
        token: signIdentity({ secret: SECRET, kid: KID, siteId: SITE, userId: `user-${i % SUBJECTS}` }),
      }),
    ),
    'identify, re-linking an existing device': await load((i) =>
      identity.identify({
        siteId: SITE,
        deviceId: pick(linkedDevices),
        token: signIdentity({ secret: SECRET, kid: KID, siteId: SITE, userId: `user-${device(i)}` }),
      }),
    ),
  };
  const base = results['primary-key lookup (baseline)'];
  const rows = Object.entries(results).map(
    ([name, r]) =>
      `| ${name} | ${r.rate.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${(r.p50 / base.p50).toFixed(1)}× |`,
  );
  const pgVersion = (await db.query('SHOW server_version')).rows[0].server_version;
  const report = [
    '',
    `## Identity: identify and consent lookup (${new Date().toISOString().slice(0, 16)}Z)`,
    '',
    `\`node bench/identify.mjs\`: PostgreSQL ${pgVersion} on this machine (${cpus().length} cores, shared), ` +
      `${RECEIPTS.toLocaleString('en')} receipts, ${SUBJECTS.toLocaleString('en')} subjects, ` +
      `${DEVICES.toLocaleString('en')} linked devices (generated in ${generatedSeconds.toFixed(0)} s); ` +
      `${REQUESTS} calls per case, ${CONCURRENCY} in flight, through the server's own service code and pool.`,
    '',
    '| case | calls/s | p50 ms | p99 ms | p50 vs PK lookup |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
  ].join('\n');
  console.log(report);
  const file = join(ROOT, 'docs', 'benchmarks.md');
  if (!args['no-write']) {
    // This benchmark owns the `## Identity:` section: the previous one is replaced, the others are kept.
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    const kept = old
      .split(/^(?=## )/m)
      .filter((sec) => !sec.startsWith('## Identity:'))
      .join('')
      .trimEnd();
    writeFileSync(file, `${kept}\n${report}`);
  }
} finally {
  await db.close();
  await database.drop();
}
