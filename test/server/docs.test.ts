import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/server/db/db.ts';
import { generatedDocs, OPENAPI_FILE, receiptJsonSchema } from '../../scripts/docs-schema.ts';
import { databases } from '../helpers/databases.ts';
import { checkSchema } from './json-schema.ts';
import { buildApp, DB_START_TIMEOUT, makeReceipt, postReceipts } from './helpers.ts';

describe('generated documentation', () => {
  it.each(generatedDocs().map((d) => [d.file.pathname.split('/').pop(), d] as const))(
    '%s is up to date with the protocol schemas (npm run docs:schema)',
    (_, { file, text }) => {
      expect(readFileSync(file, 'utf8')).toBe(text);
    },
  );

  it('the receipt JSON Schema accepts a valid receipt and rejects what the validator rejects', () => {
    const schema = receiptJsonSchema() as Record<string, unknown>;
    expect(checkSchema(makeReceipt(), schema, schema)).toEqual([]);
    expect(checkSchema({ ...makeReceipt(), method: 'nodded' }, schema, schema)).not.toEqual([]);
    expect(checkSchema({ ...makeReceipt(), deviceId: 'ABC' }, schema, schema)).not.toEqual([]);
  });
});

describe.each(databases)('the server answers as docs/openapi.json says, on $name', (d) => {
  describe.skipIf(!d.available)('answers', () => {
    const openapi = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Record<string, unknown>;
    const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    let db: Db & { drop(): Promise<void> };
    // PGlite starts in seconds, or in minutes on a loaded machine: give creating and migrating it time.
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    it('POST /v1/receipts: BatchResponse with stored, duplicate and rejected results; problems', async () => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      await postReceipts(app, { receipts: [receipt] });
      const res = await postReceipts(app, { receipts: [receipt, makeReceipt(), { receiptId: 'x' }] });
      const body = await res.json();
      expect(checkSchema(body, schema('BatchResponse'), openapi)).toEqual([]);
      expect(body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
        'duplicate',
        'stored',
        'rejected',
      ]);
      const problem = await (await postReceipts(app, '{')).json();
      expect(checkSchema(problem, schema('ProblemDetails'), openapi)).toEqual([]);
    });

    it('GET /v1/consent and GET /v1/keys', async () => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      await postReceipts(app, { receipts: [receipt] });
      const state = await (
        await app.request(`/v1/consent?site=${receipt.siteId}&device=${receipt.deviceId}`)
      ).json();
      expect(checkSchema(state, schema('ConsentStateResponse'), openapi)).toEqual([]);
      const keys = await (await app.request('/v1/keys')).json();
      expect(checkSchema(keys, schema('KeysResponse'), openapi)).toEqual([]);
    });
  });
});
