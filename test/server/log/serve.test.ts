import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchResponse } from '../../../src/protocol/api.ts';
import type { ReceiptProofResponse } from '../../../src/protocol/log.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { type RunningServer, startServer } from '../../../src/server/main.ts';
import { databases, POSTGRES_URL } from '../../helpers/databases.ts';
import { makeReceipt } from './fixtures.ts';

const ORIGIN = 'https://shop.example';

describe.each(databases)('the log in a running server on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let dir: string;
    let server: RunningServer | undefined;
    let dropSchema = async () => {};

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'assenso-serve-'));
    });
    afterEach(async () => {
      await server?.close();
      server = undefined;
      await dropSchema();
      await rm(dir, { recursive: true, force: true });
    });

    it('sequences stored receipts on its own and serves their proofs', async () => {
      const env: Record<string, string> = { ASSENSO_PSEUDONYM_SECRET: randomBytes(32).toString('base64url') };
      if (d.name === 'postgres') {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        const admin = new pg.Client({ connectionString: POSTGRES_URL });
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        await admin.end();
        env.DATABASE_URL = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
        dropSchema = async () => {
          const c = new pg.Client({ connectionString: POSTGRES_URL });
          await c.connect();
          await c.query(`DROP SCHEMA ${schema} CASCADE`);
          await c.end();
        };
      }
      server = await startServer({
        config: parseConfig({ sites: [{ id: 'shop', origins: [ORIGIN] }], dataDir: dir, rateLimit: false }),
        env,
        port: 0,
        host: '127.0.0.1',
        logger: pino({ level: 'silent' }),
        widgetDir: join(dir, 'no-widget'),
      });
      const res = await fetch(`${server.url}/v1/receipts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ receipts: [makeReceipt('shop', { collectedAt: Date.now() })] }),
      });
      const [result] = ((await res.json()) as BatchResponse).results;
      expect(result?.status).toBe(201);

      // The sequencer runs every second: poll as a client would, honouring Retry-After.
      let proof: Response | undefined;
      for (let i = 0; i < 60; i++) {
        proof = await fetch(`${server.url}/v1/receipts/${result!.receiptId}/proof`);
        if (proof.status !== 202) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(proof?.status).toBe(200);
      const body = (await proof!.json()) as ReceiptProofResponse;
      expect(body).toMatchObject({ leafIndex: 0, checkpoint: { treeSize: 1 } });
      await server.close();
      server = undefined;
      // Starts PGlite on disk and migrates it from scratch: slow on a loaded machine.
    }, 180_000);
  });
});
