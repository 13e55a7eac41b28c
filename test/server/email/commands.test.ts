import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/server/config.ts';
import type { Db } from '../../../src/server/db/db.ts';
import { createPreferencesService } from '../../../src/server/email/preferences-service.ts';
import { createMemoryKeyring } from '../../../src/server/log/keys.ts';
import { runCommand, withCommandDb } from '../../helpers/cli.ts';
import { databases, POSTGRES_URL } from '../../helpers/databases.ts';

const SITES = [
  {
    id: 'shop',
    origins: ['https://shop.example'],
    purposes: [{ id: 'offers', title: 'Offers', channels: ['email', 'sms'], lifetimeDays: 30 }],
  },
];

describe.each(databases)('email commands on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let dir: string;
    let env: Record<string, string>;
    let pg: (Db & { drop(): Promise<void> }) | undefined;

    const withDb = <T>(fn: (db: Db) => Promise<T>) => withCommandDb(dir, pg, fn);

    const cli = (...argv: string[]) => runCommand(argv, { env, cwd: dir });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'assenso-email-cli-'));
      env = {
        ASSENSO_DATA_DIR: dir,
        ASSENSO_PUBLIC_URL: 'https://consent.example',
        ASSENSO_SITES: JSON.stringify(SITES),
        ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url'),
        ASSENSO_CONTACT_KEYS: JSON.stringify({
          current: 'k1',
          keys: { k1: randomBytes(32).toString('base64') },
        }),
      };
      if (d.name === 'postgres') {
        pg = await d.create();
        const schema = (await pg.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
        env.DATABASE_URL = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      }
    });
    afterAll(async () => {
      await pg?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    it('makes links, lists renewals as CSV and NDJSON, runs erasure, rotates the key', async () => {
      const made = await cli(
        'links',
        '--site',
        'shop',
        '--user',
        'u1',
        '--email',
        'u1@example.com',
        '--json',
      );
      expect(made.stderr).toBe('');
      expect(made.code).toBe(0);
      const links = JSON.parse(made.stdout) as { subjectId: string; preferencesUrl: string };
      expect(links.preferencesUrl).toMatch(/^https:\/\/consent\.example\/p\//);
      expect((await cli('links', '--site', 'shop')).code).toBe(2);

      await withDb((db) =>
        createPreferencesService({
          db,
          config: parseConfig({ sites: SITES }),
          keyring: createMemoryKeyring(),
          now: Date.now,
        }).decide({
          siteId: 'shop',
          subjectId: links.subjectId,
          method: 'api',
          language: 'en',
          choices: { offers: { email: true } },
        }),
      );
      const csv = await cli('renewals', '--site', 'shop', '--due', '31d', '--email');
      expect(csv.code).toBe(0);
      const [header, row, ...rest] = csv.stdout.trim().split('\n');
      expect(header).toBe('subject_id,expires_at,expiring,email,renewal_url,preferences_url,unsubscribe_url');
      expect(row).toContain(`${links.subjectId},`);
      expect(row).toContain(',offers.email,u1@example.com,https://consent.example/p/');
      expect(rest).toEqual([]);
      const none = await cli('renewals', '--site', 'shop', '--due', '29d', '--format', 'ndjson');
      expect(none.stdout).toBe('');
      const nd = await cli('renewals', '--site', 'shop', '--due', '2999-01-01', '--format', 'ndjson');
      expect(JSON.parse(nd.stdout.trim())).toMatchObject({
        subjectId: links.subjectId,
        expiring: [{ purpose: 'offers' }],
      });

      await withDb((db) =>
        db.query(
          `INSERT INTO email_erasure_requests (site_id, subject_id, requested_at, via) VALUES ('shop', $1, 1, 'api')`,
          [links.subjectId],
        ),
      );
      const run = await cli('erasure', 'run', '--json');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)[0]).toMatchObject({
        subjectId: links.subjectId,
        status: 'done',
        result: { contacts: 1 },
      });
      const list = await cli('erasure', 'list', '--site', 'shop');
      expect(list.stdout).toContain('contacts=1');
      expect(await withDb(async (db) => (await db.query('SELECT 1 FROM contacts')).rows.length)).toBe(0);

      const rotated = await cli('links', 'rotate-key', '--retire-previous');
      expect(rotated.stdout).toContain('earlier keys retired');
      // Each command opens the on-disk PGlite anew: slow on a busy machine.
    }, 300_000);

    it("makes no secret of its own: from a directory without the server's, it stops and names the file", async () => {
      const { ASSENSO_PSEUDONYM_SECRET: _, ASSENSO_CONTACT_KEYS: __, ...bare } = env;
      const elsewhere = await mkdtemp(join(tmpdir(), 'assenso-email-cli-elsewhere-'));
      try {
        const run = await runCommand(['links', '--site', 'shop', '--user', 'u1'], {
          env: { ...bare, ASSENSO_DATA_DIR: elsewhere },
          cwd: elsewhere,
        });
        // A new secret made another pseudonym: links for a person who is nobody, and erasure of the wrong one.
        expect(run.code).not.toBe(0);
        expect(run.stderr).toContain(`no pseudonym secret at ${join(elsewhere, 'secrets', 'pseudonym.key')}`);
        expect(existsSync(join(elsewhere, 'secrets'))).toBe(false);
      } finally {
        await rm(elsewhere, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
