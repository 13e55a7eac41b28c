import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { createAccessLog } from '../../../src/server/protection/access-log.ts';
import { createContactCrypto, parseContactKeys } from '../../../src/server/protection/contact-crypto.ts';
import { createContactStore } from '../../../src/server/protection/contact-store.ts';
import { runCommand, withCommandDb } from '../../helpers/cli.ts';
import { databases, POSTGRES_URL } from '../../helpers/databases.ts';

const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const hasher = { hash: (_k: string, v: string) => v.length.toString(16).padStart(64, '0') };

/** Each command opens the database anew; a file-backed PGlite takes seconds to open on a busy machine. */
const SLOW = 240_000;

describe.each(databases)('protection commands on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let dir: string;
    let env: Record<string, string>;
    let pg: (Db & { drop(): Promise<void> }) | undefined;

    const withDb = <T>(fn: (db: Db) => Promise<T>) => withCommandDb(dir, pg, fn);

    const cli = (...argv: string[]) => runCommand(argv, { env, cwd: dir });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'assenso-cli-'));
      env = {
        ASSENSO_DATA_DIR: dir,
        ASSENSO_SITES: JSON.stringify([{ id: 'shop', origins: ['https://shop.example'] }]),
        ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url'),
        ASSENSO_CONTACT_KEYS: JSON.stringify({ current: 'k2', keys: { k1, k2 } }),
      };
      if (d.name === 'postgres') {
        pg = await d.create();
        const schema = (await pg.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
        env.DATABASE_URL = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      } else {
        expect((await cli('migrate')).code).toBe(0);
      }
    }, SLOW);
    afterAll(async () => {
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it(
      'creates, lists and revokes admin keys; refuses bad arguments',
      async () => {
        const created = await cli(
          'admin-keys',
          'create',
          '--role',
          'operator',
          '--site',
          'shop',
          '--label',
          'desk',
          '--json',
        );
        expect(created.code).toBe(0);
        const key = JSON.parse(created.stdout) as {
          keyId: string;
          token: string;
          role: string;
          siteId: string;
        };
        expect(key).toMatchObject({ role: 'operator', siteId: 'shop' });
        expect(key.token).toMatch(/^ask_[0-9a-f]{16}_/);
        expect((await cli('admin-keys', 'create', '--role', 'root')).code).toBe(2);
        expect((await cli('admin-keys', 'create', '--role', 'admin', '--site', 'nowhere')).code).toBe(2);

        const listed = await cli('admin-keys', 'list');
        expect(listed.stdout).toMatch(new RegExp(`${key.keyId}\\s+operator\\s+shop`));
        expect(listed.stdout).not.toContain(key.token.slice(-20));
        expect((await cli('admin-keys', 'revoke', key.keyId)).code).toBe(0);
        expect((await cli('admin-keys', 'revoke', 'ffffffffffffffff')).code).toBe(1);
        const after = JSON.parse((await cli('admin-keys', 'list', '--json')).stdout) as {
          revokedAt: number | null;
        }[];
        expect(after[0]?.revokedAt).toEqual(expect.any(Number));
      },
      SLOW,
    );

    it(
      'reports and rotates contact keys, retiring the old one',
      async () => {
        const old = createContactCrypto(parseContactKeys({ current: 'k1', keys: { k1 } }));
        await withDb(async (db) => {
          const store = createContactStore({ db, crypto: old, pseudonymizer: hasher });
          for (const s of ['s_a', 's_b', 's_c'])
            await store.put({ siteId: 'shop', subjectId: s, kind: 'email', value: `${s}@example.com` });
        });
        const status = await cli('keys', 'status', '--json');
        expect(JSON.parse(status.stdout)).toEqual({
          current: 'k2',
          keys: [{ kid: 'k1', count: 3, status: 'old' }],
        });

        const refused = await cli('keys', 'rotate', '--retire', 'k2');
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('is the current key');

        const rotated = await cli('keys', 'rotate', '--retire', 'k1', '--batch', '2');
        expect(rotated.code).toBe(0);
        expect(rotated.stdout).toContain('3 re-encrypted in 2 batches');
        expect(rotated.stdout).toContain('No value is left under k1');

        env.ASSENSO_CONTACT_KEYS = JSON.stringify({ current: 'k2', keys: { k2 }, retired: ['k1'] });
        expect((await cli('keys', 'status')).code).toBe(0);
        const fresh = createContactCrypto(parseContactKeys(env.ASSENSO_CONTACT_KEYS));
        const values = await withDb((db) =>
          createContactStore({ db, crypto: fresh, pseudonymizer: hasher }).listForSubject('shop', 's_b'),
        );
        expect(values.map((v) => v.value)).toEqual(['s_b@example.com']);
      },
      SLOW,
    );

    it(
      'runs retention (dry and for real) and verifies the access log',
      async () => {
        const dry = await cli('retention', 'run', '--dry-run', '--json');
        expect(dry.code).toBe(0);
        expect(JSON.parse(dry.stdout)).toMatchObject({
          dryRun: true,
          trigger: 'cli',
          results: { deviceLinks: 0 },
        });
        const real = await cli('retention', 'run');
        expect(real.stdout).toMatch(/deviceLinks\s+395 days\s+0/);
        expect((await cli('retention', 'runs', '--json')).stdout).toContain('"dryRun":true');

        await withDb(async (db) => {
          const log = createAccessLog({ db });
          const actor = {
            keyId: 'a'.repeat(16),
            role: 'admin' as const,
            siteId: null,
            ip: null,
            userAgent: null,
          };
          for (const s of ['s_a', 's_b'])
            await log.append({ actor, action: 'subject.export', siteId: 'shop', subjectId: s });
          // Signed by the server's key, which this command cannot see (no key in the data directory or env).
          await createAccessLog({ db, keyring: createMemoryKeyring() }).signHead();
        });
        const verified = await cli('access-log', 'verify');
        // Without the keys the heads cannot be checked: said so, not reported as forged signatures.
        expect(verified.stderr).toContain('no signing keys found: signed heads cannot be checked');
        expect(verified.code).toBe(0);
        expect(verified.stdout).toMatch(/^access log: OK \(2 entries, 1…2, 1 signed heads\)/);
        expect((await cli('access-log', 'query', '--subject', 's_b')).stdout).toMatch(
          /2\s+\S+\s+a{16}\s+admin\s+subject\.export/,
        );
        await withDb((db) => db.query("UPDATE access_log SET subject_id = 's_z' WHERE seq = 1"));
        const tampered = await cli('access-log', 'verify');
        expect(tampered.code).toBe(1);
        expect(tampered.stdout).toContain('FAILED at entry 1');
      },
      SLOW,
    );
  });
});
