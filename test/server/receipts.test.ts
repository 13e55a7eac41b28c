import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchResponse } from '../../src/protocol/api.ts';
import { canonicalJson } from '../../src/protocol/canonical.ts';
import { PROBLEM_TYPES } from '../../src/protocol/problem.ts';
import type { Db } from '../../src/server/db/db.ts';
import { databases } from '../helpers/databases.ts';
import {
  BLOG,
  BLOG_ORIGIN,
  buildApp,
  DB_START_TIMEOUT,
  countReceipts,
  failDerivedStateOf,
  idsOf,
  makeReceipt,
  postReceipts,
  SHOP,
  SHOP_ORIGIN,
} from './helpers.ts';

describe.each(databases)('POST /v1/receipts on $name', (d) => {
  describe.skipIf(!d.available)('ingest', () => {
    let db: Db & { drop(): Promise<void> };
    // One database per driver for the file (PGlite takes seconds to start); every test makes its own receipts.
    // PGlite starts in seconds, or in minutes on a loaded machine: give creating and migrating it time.
    beforeAll(async () => {
      db = await d.create();
    }, DB_START_TIMEOUT);
    afterAll(async () => {
      await db?.drop();
    });

    it('stores a receipt and answers 201 with a signature over the canonical entry', async () => {
      const { app, deps } = buildApp(db);
      const receipt = makeReceipt();
      const res = await postReceipts(app, { receipts: [receipt] });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const { results } = (await res.json()) as BatchResponse;
      const [r] = results;
      if (r?.outcome !== 'stored') throw new Error(`expected stored, got ${JSON.stringify(r)}`);
      expect(r).toMatchObject({ index: 0, receiptId: receipt.receiptId, status: 201 });
      expect(r.signed.receipt).toEqual(receipt);
      expect(r.signed.receivedAt).toBe(deps.now());
      const entry = new TextEncoder().encode(canonicalJson({ receipt, receivedAt: r.signed.receivedAt }));
      expect(deps.keyring.verify(r.signed.signature.kid, entry, r.signed.signature.sig)).toBe(true);
      const row = (
        await db.query<{ entry: string; leaf_hash: string; leaf_index: unknown }>(
          'SELECT * FROM receipts WHERE receipt_id = $1',
          [receipt.receiptId],
        )
      ).rows;
      expect(row).toHaveLength(1);
      expect(row[0]?.entry).toBe(new TextDecoder().decode(entry));
      expect(row[0]?.leaf_hash).toBe(r.signed.leafHash);
      expect(row[0]?.leaf_index).toBeNull();
    });

    it('answers a repeated id with the same body 200 duplicate and the ORIGINAL signed receipt', async () => {
      const { app, advance } = buildApp(db);
      const receipt = makeReceipt();
      const first = ((await (await postReceipts(app, { receipts: [receipt] })).json()) as BatchResponse)
        .results[0];
      advance(5_000);
      // Same receipt with its keys in another order: the same body once canonical.
      const reordered = Object.fromEntries(Object.entries(receipt).reverse());
      const again = ((await (await postReceipts(app, { receipts: [reordered] })).json()) as BatchResponse)
        .results[0];
      expect(again).toMatchObject({ status: 200, outcome: 'duplicate' });
      if (first?.outcome === 'rejected' || again?.outcome === 'rejected') throw new Error('rejected');
      expect(again?.signed).toEqual(first?.signed);
      expect(await countReceipts(db, [receipt.receiptId])).toBe(1);
    });

    it("refuses a device that names the person a decision is for (subjectCommitment is the server's to sign)", async () => {
      const { app } = buildApp(db);
      const receipt = { ...makeReceipt(), subjectCommitment: `sha256:${'a'.repeat(64)}` };
      const [r] = ((await (await postReceipts(app, { receipts: [receipt] })).json()) as BatchResponse)
        .results;
      expect(r).toMatchObject({
        status: 422,
        outcome: 'rejected',
        problem: { errors: ['subjectCommitment: set by the server only, never sent by a device'] },
      });
      expect(await countReceipts(db, [receipt.receiptId])).toBe(0);
    });

    it('answers a repeated id with another body 422 receipt-conflict and keeps the first', async () => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      await postReceipts(app, { receipts: [receipt] });
      const res = await postReceipts(app, {
        receipts: [{ ...receipt, categories: { necessary: true, analytics: false } }],
      });
      const [r] = ((await res.json()) as BatchResponse).results;
      expect(r).toMatchObject({ status: 422, outcome: 'rejected', receiptId: receipt.receiptId });
      if (r?.outcome !== 'rejected') throw new Error('not rejected');
      expect(r.problem.type).toBe(PROBLEM_TYPES['receipt-conflict']);
      const stored = (
        await db.query<{ entry: string }>('SELECT entry FROM receipts WHERE receipt_id = $1', [
          receipt.receiptId,
        ])
      ).rows;
      expect(JSON.parse(stored[0]?.entry ?? '{}').receipt.categories.analytics).toBe(true);
    });

    it('stores one row for concurrent duplicates and answers every one with the same signed receipt', async () => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          postReceipts(app, { receipts: [receipt] }).then((r) => r.json() as Promise<BatchResponse>),
        ),
      );
      const results = answers.map((a) => a.results[0]);
      expect(results.filter((r) => r?.outcome === 'stored')).toHaveLength(1);
      expect(results.filter((r) => r?.outcome === 'duplicate')).toHaveLength(7);
      const sigs = new Set(results.map((r) => (r?.outcome === 'rejected' ? null : r?.signed.signature.sig)));
      expect(sigs.size).toBe(1);
      expect(await countReceipts(db, [receipt.receiptId])).toBe(1);
    });

    it('answers each item on its own: invalid 422 with errors, unknown site 404, valid 201', async () => {
      const { app } = buildApp(db);
      const good = makeReceipt();
      const bad = { ...makeReceipt(), collectedAt: 'yesterday', extra: 1 };
      const elsewhere = makeReceipt('nowhere');
      const res = await postReceipts(app, { receipts: [bad, good, elsewhere] });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as BatchResponse;
      expect(results.map((r) => r.status)).toEqual([422, 201, 404]);
      const [invalid, , unknown] = results;
      if (invalid?.outcome !== 'rejected' || unknown?.outcome !== 'rejected') throw new Error('not rejected');
      expect(invalid.receiptId).toBe(bad.receiptId);
      expect(invalid.problem.type).toBe(PROBLEM_TYPES['invalid-receipt']);
      expect(invalid.problem.errors).toEqual(
        expect.arrayContaining([expect.stringMatching(/^collectedAt: /)]),
      );
      expect(invalid.problem.errors?.join('\n')).toMatch(/extra/);
      expect(unknown.problem.type).toBe(PROBLEM_TYPES['unknown-site']);
      expect(await countReceipts(db, [bad.receiptId, good.receiptId, elsewhere.receiptId])).toBe(1);
    });

    it('stores the valid receipts of a batch whose only other item names an unknown site', async () => {
      const { app } = buildApp(db);
      const good = makeReceipt();
      const elsewhere = makeReceipt('nowhere');
      const res = await postReceipts(app, { receipts: [good, elsewhere] });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as BatchResponse;
      expect(results.map((r) => r.status)).toEqual([201, 404]);
      expect(await countReceipts(db, [good.receiptId])).toBe(1);
    });

    it('answers 404 unknown-site for the whole request when every item names the same unknown site', async () => {
      const { app } = buildApp(db);
      const res = await postReceipts(app, { receipts: [makeReceipt('nowhere'), makeReceipt('nowhere')] });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['unknown-site'], status: 404 });
    });

    it('refuses receipts of a site from an origin that site does not allow (403 per item)', async () => {
      const { app } = buildApp(db);
      // The blog's page may post, but not the shop's receipts.
      const receipts = [makeReceipt(BLOG), makeReceipt(SHOP)];
      const res = await postReceipts(app, { receipts }, { origin: BLOG_ORIGIN });
      const { results } = (await res.json()) as BatchResponse;
      expect(results.map((r) => r.status)).toEqual([201, 403]);
      if (results[1]?.outcome !== 'rejected') throw new Error('not rejected');
      expect(results[1].problem.type).toBe(PROBLEM_TYPES['origin-not-allowed']);
      expect(await countReceipts(db, idsOf(receipts))).toBe(1);
    });

    it.each([
      ['an unknown Origin', { origin: 'https://evil.example' }],
      ['Origin null', { origin: 'null' }],
      [
        'a cross-site request hiding its Origin',
        { origin: null, headers: { 'sec-fetch-site': 'cross-site' } },
      ],
    ])('refuses the whole request (403) from %s, before storing anything', async (_, opts) => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      const res = await postReceipts(app, { receipts: [receipt] }, opts);
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['origin-not-allowed'] });
      expect(await countReceipts(db, [receipt.receiptId])).toBe(0);
    });

    it('accepts a request without Origin from a non-browser client (a site backend)', async () => {
      const { app } = buildApp(db);
      const res = await postReceipts(app, { receipts: [makeReceipt()] }, { origin: null });
      expect(((await res.json()) as BatchResponse).results[0]?.status).toBe(201);
    });

    it('accepts sendBeacon bodies sent as text/plain', async () => {
      const { app } = buildApp(db);
      const res = await postReceipts(
        app,
        { receipts: [makeReceipt()] },
        { contentType: 'text/plain;charset=UTF-8' },
      );
      expect(((await res.json()) as BatchResponse).results[0]?.status).toBe(201);
    });

    it.each([
      ['malformed JSON', '{"receipts": [', 400, 'malformed-json'],
      ['a JSON array', '[]', 400, 'invalid-request'],
      ['an empty batch', '{"receipts": []}', 400, 'invalid-request'],
      ['an unknown envelope key', '{"receipts": [{}], "more": 1}', 400, 'invalid-request'],
      ['an empty body', '', 400, 'malformed-json'],
    ] as const)('answers %s with %i %s', async (_, body, status, code) => {
      const { app } = buildApp(db);
      const res = await postReceipts(app, body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES[code], status, instance: '/v1/receipts' });
    });

    it('reads the body as UTF-8: a byte order mark is skipped, invalid bytes are malformed JSON', async () => {
      const { app } = buildApp(db);
      const json = new TextEncoder().encode(JSON.stringify({ receipts: [makeReceipt()] }));
      const send = (body: Uint8Array<ArrayBuffer>) =>
        app.request('/v1/receipts', {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: SHOP_ORIGIN },
          body,
        });
      const withBom = await send(new Uint8Array([0xef, 0xbb, 0xbf, ...json]));
      expect(((await withBom.json()) as BatchResponse).results[0]?.status).toBe(201);
      const invalid = await send(new Uint8Array([...json.slice(0, -2), 0xc3, 0x28, ...json.slice(-2)]));
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({
        type: PROBLEM_TYPES['malformed-json'],
        detail: 'The body is not valid UTF-8',
      });
    });

    it('answers more than 100 receipts with 400 naming the limit', async () => {
      const { app } = buildApp(db);
      const receipts = Array.from({ length: 101 }, () => ({ receiptId: 'x' }));
      const res = await postReceipts(app, { receipts });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(/100/);
    });

    it('answers 415 for other content types', async () => {
      const { app } = buildApp(db);
      const res = await postReceipts(
        app,
        { receipts: [makeReceipt()] },
        { contentType: 'application/x-www-form-urlencoded' },
      );
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['unsupported-media-type'] });
    });

    it('answers 413 from Content-Length before reading the body', async () => {
      const { app } = buildApp(db);
      let pulled = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          pulled++;
          ctrl.enqueue(new Uint8Array(1024));
        },
      });
      const res = await app.request('/v1/receipts', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(65 * 1024),
          origin: 'https://shop.example',
        },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ type: PROBLEM_TYPES['payload-too-large'], maxBytes: 65_536 });
      expect(pulled).toBeLessThanOrEqual(1);
    });

    it('answers 413 for a streamed body without length, reading no more than the limit', async () => {
      const { app } = buildApp(db);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(ctrl) {
          sent += 8192;
          if (sent > 1024 * 1024) ctrl.close();
          else ctrl.enqueue(new Uint8Array(8192).fill(32));
        },
      });
      const res = await app.request('/v1/receipts', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
        body,
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(sent).toBeLessThan(128 * 1024);
    });

    it('commits a batch as one: a failure mid-way stores nothing and answers a bare 500', async () => {
      const { app } = buildApp(db);
      const receipts = [makeReceipt(), makeReceipt(), makeReceipt()];
      // The database fails on the derived-state write, after the receipts were inserted by the same commit.
      const failing = await failDerivedStateOf(db, [receipts[2]?.deviceId as string]);
      try {
        const res = await postReceipts(app, { receipts });
        expect(res.status).toBe(500);
        expect(await res.text()).toBe('');
      } finally {
        await failing.remove();
      }
      expect(await countReceipts(db, idsOf(receipts))).toBe(0);
    });

    it('commits concurrent requests together and keeps every guarantee per request', async () => {
      const { app } = buildApp(db);
      const before = makeReceipt();
      await postReceipts(app, { receipts: [before] });
      const shared = makeReceipt();
      const doomed = makeReceipt();
      const mixed = makeReceipt();
      const plain = Array.from({ length: 30 }, () => makeReceipt());
      const batch = Array.from({ length: 20 }, () => makeReceipt());
      // 40 requests at once: plain ones, a batch of 20, the same new id from three requests, an id stored before
      // with another body, an invalid receipt beside a valid one, a bad envelope, and one the database fails.
      const special: [string, unknown][] = [
        ['shared', { receipts: [shared] }],
        ['batch', { receipts: batch }],
        ['conflict', { receipts: [{ ...before, method: 'reject-all' }] }],
        ['shared', { receipts: [shared] }],
        ['mixed', { receipts: [{ ...makeReceipt(), language: 42 }, mixed] }],
        ['doomed', { receipts: [doomed] }],
        ['envelope', { receipts: 'none' }],
        ['shared', { receipts: [shared] }],
      ];
      const requests: [string, unknown][] = [
        ...plain.slice(0, 10).map((r): [string, unknown] => ['plain', { receipts: [r] }]),
        ...special,
        ...plain.slice(10).map((r): [string, unknown] => ['plain', { receipts: [r] }]),
      ];
      const failing = await failDerivedStateOf(db, [doomed.deviceId as string]);
      let answers: { kind: string; status: number; body: unknown }[];
      try {
        answers = await Promise.all(
          requests.map(async ([kind, body]) => {
            const res = await postReceipts(app, body);
            return {
              kind,
              status: res.status,
              body: res.status === 500 ? await res.text() : await res.json(),
            };
          }),
        );
      } finally {
        await failing.remove();
      }
      const resultsOf = (kind: string) =>
        answers.filter((a) => a.kind === kind).map((a) => (a.body as BatchResponse).results);

      // The request the database failed, alone: a bare 500, nothing of it stored.
      expect(answers.filter((a) => a.kind === 'doomed')).toEqual([{ kind: 'doomed', status: 500, body: '' }]);
      expect(await countReceipts(db, [doomed.receiptId])).toBe(0);
      // The bad envelope: its problem details.
      expect(answers.find((a) => a.kind === 'envelope')).toMatchObject({
        status: 400,
        body: { type: PROBLEM_TYPES['invalid-request'], status: 400 },
      });
      // Every other request: 200, each valid receipt answered 201 and committed.
      expect(answers.filter((a) => a.status !== 200).map((a) => a.kind)).toEqual(['doomed', 'envelope']);
      for (const results of resultsOf('plain'))
        expect(results).toMatchObject([{ status: 201, outcome: 'stored' }]);
      expect(resultsOf('batch')[0]?.map((r) => r.status)).toEqual(batch.map(() => 201));
      expect(await countReceipts(db, [...idsOf(plain), ...idsOf(batch), mixed.receiptId])).toBe(51);
      // The same new id from three requests: one row, one "stored", two duplicates, one signature.
      const sharedResults = resultsOf('shared').map((results) => results[0]);
      expect(sharedResults.map((r) => r?.outcome).sort()).toEqual(['duplicate', 'duplicate', 'stored']);
      const signatures = sharedResults.map((r) =>
        r?.outcome === 'rejected' ? null : r?.signed.signature.sig,
      );
      expect(new Set(signatures).size).toBe(1);
      expect(await countReceipts(db, [shared.receiptId])).toBe(1);
      // An id stored before, with another body: 422, the stored one kept.
      expect(resultsOf('conflict')[0]).toMatchObject([
        { status: 422, problem: { type: PROBLEM_TYPES['receipt-conflict'] } },
      ]);
      // An invalid receipt beside a valid one: 422 for it, 201 for the other.
      expect(resultsOf('mixed')[0]?.map((r) => r.status)).toEqual([422, 201]);
      // The derived state of a receipt committed in a group is there, as for one committed alone.
      const state = await db.query<{ kind: string }>('SELECT kind FROM device_consent WHERE device_id = $1', [
        batch[7]?.deviceId,
      ]);
      expect(state.rows.map((r) => r.kind).sort()).toEqual(['category', 'category', 'receipt', 'service']);
    });

    it('answers a duplicate id inside one batch like a retry', async () => {
      const { app } = buildApp(db);
      const receipt = makeReceipt();
      const other = { ...receipt, method: 'reject-all', categories: { necessary: true, analytics: false } };
      const { results } = (await (
        await postReceipts(app, { receipts: [receipt, receipt, other] })
      ).json()) as BatchResponse;
      expect(results.map((r) => [r.status, r.outcome])).toEqual([
        [201, 'stored'],
        [200, 'duplicate'],
        [422, 'rejected'],
      ]);
      expect(await countReceipts(db, [receipt.receiptId])).toBe(1);
    });

    it('stores a full batch of 100 receipts at once', async () => {
      const { app } = buildApp(db);
      const receipts = Array.from({ length: 100 }, () => makeReceipt());
      const { results } = (await (await postReceipts(app, { receipts })).json()) as BatchResponse;
      expect(results.every((r) => r.status === 201)).toBe(true);
      expect(results.map((r) => r.index)).toEqual(receipts.map((_, i) => i));
      expect(await countReceipts(db, idsOf(receipts))).toBe(100);
    });
  });
});
