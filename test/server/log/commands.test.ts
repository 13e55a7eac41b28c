import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliContext } from '../../../src/server/commands/command.ts';
import { command as exportCommand } from '../../../src/server/commands/export.ts';
import { command as verifyCommand } from '../../../src/server/commands/verify.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { migrate } from '../../../src/server/db/migrate.ts';
import { createPgliteDb } from '../../../src/server/db/pglite.ts';
import { createPostgresDb } from '../../../src/server/db/postgres.ts';
import {
  createKeyring,
  generateSigningKey,
  type Keyring,
  loadKeyring,
} from '../../../src/server/log/keys.ts';
import { startSequencer } from '../../../src/server/log/sequencer.ts';
import { databases, POSTGRES_URL } from '../../helpers/databases.ts';
import { insertReceipts } from './fixtures.ts';

/**
 * The commands as an operator runs them: against a PGlite data directory (`--database DIR`, keys in
 * `DIR/keys`) or a PostgreSQL URL (`DATABASE_URL`, keys in `ASSENSO_SIGNING_KEYS`).
 */
interface Setup {
  /** Opens the database the command will read (closed again before the command runs, for PGlite). */
  open(): Promise<Db>;
  keyring: Keyring;
  argv: string[];
  env: Record<string, string | undefined>;
  cleanup(): Promise<void>;
}

async function setup(driver: 'pglite' | 'postgres', dir: string): Promise<Setup> {
  if (driver === 'pglite') {
    const keyring = await loadKeyring({ dataDir: dir, env: {} });
    return {
      open: async () => createPgliteDb(join(dir, 'pglite')),
      keyring,
      argv: ['--database', dir],
      env: {},
      cleanup: async () => {},
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const key = generateSigningKey(Date.now());
  return {
    open: async () => createPostgresDb(POSTGRES_URL, { schema, max: 2 }),
    keyring: createKeyring([key]),
    argv: [],
    env: {
      DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      ASSENSO_SIGNING_KEYS: JSON.stringify([key]),
    },
    async cleanup() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

describe.each(databases)('assenso verify and export on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let dir: string;
    let s: Setup;
    let ids: string[];

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'assenso-cmd-'));
      s = await setup(d.name, dir);
      const db = await s.open();
      await migrate(db);
      ids = (await insertReceipts(db, s.keyring, 'shop', 6)).map((r) => r.receiptId);
      await startSequencer({ db, keyring: s.keyring, intervalMs: 0 }).runOnce();
      await db.close();
      // PGlite on disk, migrated from scratch: slow on a loaded machine.
    }, 180_000);
    afterEach(async () => {
      await s.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    async function run(cmd: typeof verifyCommand, argv: string[]) {
      let stdout = '';
      let stderr = '';
      const ctx: CliContext = {
        argv: [...argv, ...s.argv],
        env: s.env,
        cwd: dir,
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
        stopSignal: new Promise(() => {}),
      };
      const code = await cmd.run(ctx);
      return { code, stdout, stderr };
    }

    it('verify exits 0 on an untouched log and 1 naming the first tampered receipt', async () => {
      const ok = await run(verifyCommand, []);
      expect(ok).toMatchObject({ code: 0, stderr: '' });
      expect(ok.stdout).toContain('site shop: OK (6 receipts, 6 leaves, 1 checkpoints)');

      const db = await s.open();
      await db.query('ALTER TABLE receipts DISABLE TRIGGER USER');
      await db.query(
        "UPDATE receipts SET entry = replace(entry, 'accept-all', 'reject-all') WHERE receipt_id = $1",
        [ids[3]],
      );
      await db.close();
      const bad = await run(verifyCommand, ['--site', 'shop']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`FAILED at leaf 3, receipt ${ids[3]}`);
      expect(bad.stdout).toContain('site shop: FAILED');

      const json = await run(verifyCommand, ['--json']);
      expect(JSON.parse(json.stdout).first).toMatchObject({ receiptId: ids[3], leafIndex: 3 });
    });

    it('verify --keys trusts only the keys of that file, not those the data directory or environment holds', async () => {
      // The auditor's own copy of GET /v1/keys is the point of --keys: a key someone added to the server since
      // (and signed a rewritten log with) must not count just because it sits next to the database.
      const other = generateSigningKey(Date.now());
      await writeFile(
        join(dir, 'trusted-keys.json'),
        JSON.stringify({
          keys: [{ alg: 'Ed25519', kid: other.kid, publicKey: other.publicKey, createdAt: 1 }],
        }),
      );
      const bad = await run(verifyCommand, ['--keys', 'trusted-keys.json']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`FAILED at leaf 0, receipt ${ids[0]}`);
      expect(bad.stderr).toContain('the key is unknown');

      const [signer] = s.keyring.publicKeys();
      await writeFile(join(dir, 'trusted-keys.json'), JSON.stringify({ keys: [signer] }));
      expect(await run(verifyCommand, ['--keys', 'trusted-keys.json'])).toMatchObject({
        code: 0,
        stderr: '',
      });
    });

    it('verify --checkpoint checks every kept checkpoint it is given, or refuses the file', async () => {
      const db = await s.open();
      const { rows } = await db.query<{ note: string }>('SELECT note FROM log_checkpoints');
      await db.close();
      const note = rows[0]!.note;
      // GET /v1/log/:site/checkpoint answers JSON unless asked for text/plain: what an auditor most likely kept.
      await writeFile(join(dir, 'kept.json'), JSON.stringify({ siteId: 'shop', treeSize: 6, note }));
      expect(await run(verifyCommand, ['--checkpoint', 'kept.json'])).toMatchObject({ code: 0, stderr: '' });
      const forged = note.replace(/\n6\n/, '\n7\n');
      await writeFile(
        join(dir, 'forged.json'),
        JSON.stringify({ siteId: 'shop', treeSize: 7, note: forged }),
      );
      const bad = await run(verifyCommand, ['--checkpoint', 'forged.json']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('the kept checkpoint of size 7 is not signed by a known key');
      // A file that holds no checkpoint was passed over in silence, and the log reported OK.
      await writeFile(join(dir, 'notes.txt'), 'size 6, root kept in the ticket\n');
      await expect(run(verifyCommand, ['--checkpoint', 'notes.txt'])).rejects.toThrow(
        /--checkpoint notes\.txt: not a signed checkpoint/,
      );
      await expect(run(verifyCommand, ['--site', 'other', '--checkpoint', 'kept.json'])).rejects.toThrow(
        /checkpoint of the log of site shop, not of --site other/,
      );

      // The whole log of the site removed: no site has receipts left, but the kept checkpoint still names it.
      await writeFile(join(dir, 'kept.note'), note);
      const wipe = await s.open();
      for (const t of ['receipts', 'log_nodes', 'log_checkpoints']) {
        await wipe.query(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
        await wipe.query(`DELETE FROM ${t}`);
      }
      await wipe.close();
      const wiped = await run(verifyCommand, ['--checkpoint', 'kept.note']);
      expect(wiped.code).toBe(1);
      expect(wiped.stderr).toContain('the kept checkpoint of size 6 is larger than the log (0 receipts)');
    });

    it('export writes an NDJSON file with proofs for the site', async () => {
      const out = await run(exportCommand, ['--site', 'shop', '--output', 'audit.ndjson', '--kantara']);
      expect(out.code).toBe(0);
      expect(out.stderr).toContain(
        'exported 6 receipts of shop (6 with inclusion proofs against the checkpoint of size 6)',
      );
      const lines = (await readFile(join(dir, 'audit.ndjson'), 'utf8')).trimEnd().split('\n');
      expect(lines).toHaveLength(7);
      expect(JSON.parse(lines[1]!)).toMatchObject({
        receiptId: ids[0],
        leafIndex: 0,
        kantara: { version: 'KI-CR-v1.1.0' },
      });
    });

    it('export refuses bad arguments', async () => {
      await expect(run(exportCommand, [])).rejects.toThrow(/--site is required/);
      await expect(run(exportCommand, ['--site', 'shop', '--format', 'xml'])).rejects.toThrow(
        /ndjson or csv/,
      );
      await expect(run(exportCommand, ['--site', 'shop', '--from', 'yesterday'])).rejects.toThrow(/--from/);
      await expect(
        run(exportCommand, ['--site', 'shop', '--from', '2026-02-01', '--to', '2026-01-01']),
      ).rejects.toThrow(/before --to/);
    });
  });
});
