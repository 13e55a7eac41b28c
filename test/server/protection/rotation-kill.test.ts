import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/server/db/db.ts';
import { createContactCrypto, parseContactKeys } from '../../../src/server/protection/contact-crypto.ts';
import { createContactStore } from '../../../src/server/protection/contact-store.ts';
import { rotateContactKeys } from '../../../src/server/protection/key-rotation.ts';
import { databases, POSTGRES_URL } from '../../helpers/databases.ts';

const CHILD = fileURLToPath(new URL('./fixtures/rotate-child.ts', import.meta.url));
const hasher = {
  hash: (kind: string, v: string) => createHmac('sha256', 's').update(`${kind}\0${v}`).digest('hex'),
};
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const KEYS = JSON.stringify({ current: 'k2', keys: { k1, k2 } });
const N = 300;

// A separate process needs a database both processes reach: PostgreSQL (PGlite is one process's).
const postgres = databases.find((d) => d.name === 'postgres')!;

describe.skipIf(!postgres.available)(
  'key rotation killed with SIGKILL in another process, then resumed (postgres)',
  () => {
    let db: Db & { drop(): Promise<void> };
    let url: string;
    beforeAll(async () => {
      db = await postgres.create();
      const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s;
      url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const store = createContactStore({
        db,
        crypto: createContactCrypto(parseContactKeys({ current: 'k1', keys: { k1 } })),
        pseudonymizer: hasher,
      });
      await db.transaction(async (tx) => {
        for (let i = 0; i < N; i++)
          await store.put(
            {
              siteId: 'shop',
              subjectId: `s_${String(i).padStart(4, '0')}`,
              kind: 'email',
              value: `p${i}@example.com`,
            },
            tx,
          );
      });
    });
    afterAll(async () => db.drop());

    it('loses nothing and does nothing twice', async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: { ...process.env, DATABASE_URL: url, CONTACT_KEYS: KEYS, BATCH: '20' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on('exit', (_code, signal) => resolve(signal)),
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          // After three committed batches, kill it wherever it is.
          if (chunk.toString().split('\n').includes('3')) resolve();
        });
        child.on('exit', () => reject(new Error('the rotation finished before it could be killed')));
      });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');

      const { rows } = await db.query<{ rewrapped: number; finished_at: number | null }>(
        'SELECT rewrapped, finished_at FROM contact_key_rotations',
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.finished_at).toBeNull();
      const done = rows[0]!.rewrapped;
      expect(done).toBeGreaterThanOrEqual(60);
      expect(done).toBeLessThan(N);
      const underK2 = Number(
        (await db.query<{ n: number }>("SELECT count(*) AS n FROM contacts WHERE key_id = 'k2'")).rows[0]?.n,
      );
      expect(underK2).toBe(done); // the committed cursor and the data agree: no half batch

      const crypto = createContactCrypto(parseContactKeys(KEYS));
      const report = await rotateContactKeys({ db, crypto, batchSize: 20 });
      expect(report).toMatchObject({ resumed: true, rewrapped: N, unreadable: 0 });
      expect(report.keys).toEqual([{ kid: 'k2', count: N, status: 'current' }]);
      const store = createContactStore({ db, crypto, pseudonymizer: hasher });
      const values = await Promise.all(
        Array.from({ length: N }, (_, i) => store.get('shop', `s_${String(i).padStart(4, '0')}`, 'email')),
      );
      expect(values).toEqual(Array.from({ length: N }, (_, i) => `p${i}@example.com`));
    });
  },
);
