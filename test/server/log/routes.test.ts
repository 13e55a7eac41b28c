import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BatchResponse } from '../../../src/protocol/api.ts';
import { canonicalJson } from '../../../src/protocol/canonical.ts';
import type {
  CheckpointResponse,
  ConsistencyProofResponse,
  ReceiptProofPending,
  ReceiptProofResponse,
} from '../../../src/protocol/log.ts';
import { createApp } from '../../../src/server/app.ts';
import { parseConfig } from '../../../src/server/config.ts';
import { verifyCheckpointNote } from '../../../src/server/log/checkpoint.ts';
import { createMemoryKeyring, verifyWithPublicKey } from '../../../src/server/log/keys.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../../src/server/log/merkle.ts';
import { startSequencer } from '../../../src/server/log/sequencer.ts';
import { createMetrics } from '../../../src/server/metrics.ts';
import { databases } from '../../helpers/databases.ts';
import { makeReceipt } from './fixtures.ts';

const ORIGIN = 'https://shop.example';
const fromHex = (h: string) => Buffer.from(h, 'hex');

describe.each(databases)('log routes on $name', (d) => {
  describe.skipIf(!d.available)('', () => {
    let db: Awaited<ReturnType<typeof d.create>>;
    let app: ReturnType<typeof createApp>;
    let sequence: () => Promise<unknown>;
    const keyring = createMemoryKeyring();

    beforeEach(async () => {
      db = await d.create();
      let clock = Date.now();
      const now = () => clock++;
      app = createApp({
        db,
        config: parseConfig({ sites: [{ id: 'shop', origins: [ORIGIN] }], rateLimit: false }),
        keyring,
        now,
        logger: pino({ level: 'silent' }),
        metrics: createMetrics(),
      });
      const sequencer = startSequencer({ db, keyring, now, intervalMs: 0 });
      sequence = () => sequencer.runOnce();
    }, 120_000);
    afterEach(async () => {
      await db.drop();
    });

    /** Stores receipts through the real ingest endpoint. */
    async function post(n: number) {
      const receipts = Array.from({ length: n }, () => makeReceipt('shop', { collectedAt: Date.now() }));
      const res = await app.request('/v1/receipts', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ receipts }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as BatchResponse;
      return body.results.map((r) => {
        if (r.outcome === 'rejected') throw new Error(JSON.stringify(r.problem));
        return r.signed;
      });
    }
    const get = (path: string, headers: Record<string, string> = {}) => app.request(path, { headers });

    it('serves a receipt proof an auditor checks with nothing but the public key', async () => {
      const signed = await post(3);
      const id = signed[1]!.receipt.receiptId;

      const pending = await get(`/v1/receipts/${id}/proof`);
      expect(pending.status).toBe(202);
      expect(pending.headers.get('retry-after')).toBe('2');
      expect((await pending.json()) as ReceiptProofPending).toEqual({
        receiptId: id,
        siteId: 'shop',
        status: 'pending',
        retryAfter: 2,
      });
      const none = await get('/v1/log/shop/checkpoint');
      expect(none.status).toBe(404);
      expect(none.headers.get('content-type')).toBe('application/problem+json');

      await sequence();
      const res = await get(`/v1/receipts/${id}/proof`);
      expect(res.status).toBe(200);
      const proof = (await res.json()) as ReceiptProofResponse;
      expect(proof).toMatchObject({ receiptId: id, siteId: 'shop', leafHash: signed[1]!.leafHash });
      expect(proof.checkpoint.treeSize).toBe(3);
      expect(proof.signed.leafIndex).toBe(proof.leafIndex);

      // Independently: the public key from GET /v1/keys, the entry rebuilt from the receipt, the proof.
      const { keys } = (await (await get('/v1/keys')).json()) as {
        keys: { kid: string; publicKey: string }[];
      };
      const key = keys.find((k) => k.kid === proof.signed.signature.kid)!;
      const entry = canonicalJson({ receipt: proof.signed.receipt, receivedAt: proof.signed.receivedAt });
      expect(verifyWithPublicKey(key.publicKey, Buffer.from(entry), proof.signed.signature.sig)).toBe(true);
      expect(Buffer.from(leafHash(entry)).toString('hex')).toBe(proof.leafHash);
      const note = verifyCheckpointNote(proof.checkpoint.note, key.publicKey);
      expect(note?.treeSize).toBe(3);
      expect(
        verifyInclusion(
          proof.leafIndex,
          note!.treeSize,
          leafHash(entry),
          proof.inclusionProof.map(fromHex),
          note!.root,
        ),
      ).toBe(true);
    });

    it('the standalone script of docs/transparency.md accepts a real proof and rejects a doctored one', async () => {
      const doc = await readFile(new URL('../../../docs/transparency.md', import.meta.url), 'utf8');
      const script = /```js\n(\/\/ verify-receipt\.mjs[\s\S]*?)```/.exec(doc)?.[1];
      expect(script).toBeDefined();
      const [signed] = await post(5);
      await sequence();
      await post(2);
      await sequence();
      const proof = (await (
        await get(`/v1/receipts/${signed!.receipt.receiptId}/proof`)
      ).json()) as ReceiptProofResponse;
      const keys = await (await get('/v1/keys')).text();
      const dir = await mkdtemp(join(tmpdir(), 'assenso-doc-'));
      try {
        await writeFile(join(dir, 'verify-receipt.mjs'), script!);
        await writeFile(join(dir, 'keys.json'), keys);
        const check = async (p: unknown) => {
          await writeFile(join(dir, 'proof.json'), JSON.stringify(p));
          return promisify(execFile)(process.execPath, ['verify-receipt.mjs', 'proof.json', 'keys.json'], {
            cwd: dir,
          }).then(
            (r) => ({ code: 0, out: r.stdout }),
            (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }),
          );
        };
        expect(await check(proof)).toEqual({
          code: 0,
          out: `VALID: receipt ${proof.receiptId} is leaf ${proof.leafIndex} of assenso/log/shop at size 7\n`,
        });
        const edited = structuredClone(proof);
        edited.signed.receipt.categories.analytics = false;
        expect(await check(edited)).toEqual({ code: 1, out: 'NOT VALID: receipt signature\n' });
        const moved = { ...proof, leafIndex: (proof.leafIndex + 1) % 5 };
        expect(await check(moved)).toEqual({ code: 1, out: 'NOT VALID: inclusion proof\n' });
        const forged = {
          ...proof,
          checkpoint: { ...proof.checkpoint, note: proof.checkpoint.note.replace('\n7\n', '\n8\n') },
        };
        expect(await check(forged)).toEqual({ code: 1, out: 'NOT VALID: checkpoint signature\n' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('serves the latest checkpoint as JSON or as the bare signed note', async () => {
      await post(2);
      await sequence();
      const res = await get('/v1/log/shop/checkpoint');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      const head = (await res.json()) as CheckpointResponse;
      expect(head).toMatchObject({ siteId: 'shop', treeSize: 2, origin: 'assenso/log/shop' });
      const text = await get('/v1/log/shop/checkpoint', { accept: 'text/plain' });
      expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await text.text()).toBe(head.note);
      expect(head.note.split('\n').slice(0, 3)).toEqual([
        'assenso/log/shop',
        '2',
        fromHex(head.rootHash).toString('base64'),
      ]);
    });

    it('proves consistency between sizes, and inclusion against an older checkpoint', async () => {
      const first = await post(3);
      await sequence();
      const old = (await (await get('/v1/log/shop/checkpoint')).json()) as CheckpointResponse;
      await post(5);
      await sequence();
      const res = await get('/v1/log/shop/consistency?from=3');
      expect(res.status).toBe(200);
      const body = (await res.json()) as ConsistencyProofResponse;
      expect(body).toMatchObject({ siteId: 'shop', from: 3, to: 8 });
      expect(
        verifyConsistency(
          3,
          8,
          fromHex(old.rootHash),
          fromHex(body.checkpoint.rootHash),
          body.consistencyProof.map(fromHex),
        ),
      ).toBe(true);
      const explicit = (await (
        await get('/v1/log/shop/consistency?from=3&to=8')
      ).json()) as ConsistencyProofResponse;
      expect(explicit.consistencyProof).toEqual(body.consistencyProof);

      const atOld = await get(`/v1/receipts/${first[0]!.receipt.receiptId}/proof?treeSize=3`);
      const proof = (await atOld.json()) as ReceiptProofResponse;
      expect(proof.checkpoint.note).toBe(old.note);
      expect(atOld.headers.get('cache-control')).toMatch(/immutable/);
      expect(
        verifyInclusion(
          proof.leafIndex,
          3,
          fromHex(proof.leafHash),
          proof.inclusionProof.map(fromHex),
          fromHex(old.rootHash),
        ),
      ).toBe(true);
    });

    it('answers bad requests with problem details', async () => {
      const [signed] = await post(2);
      await sequence();
      const cases: [string, number, string][] = [
        ['/v1/receipts/not-a-uuid/proof', 400, 'invalid-request'],
        [`/v1/receipts/${randomUUID()}/proof`, 404, 'not-found'],
        [`/v1/receipts/${signed!.receipt.receiptId}/proof?treeSize=7`, 404, 'not-found'],
        [`/v1/receipts/${signed!.receipt.receiptId}/proof?treeSize=-1`, 400, 'invalid-request'],
        [`/v1/receipts/${signed!.receipt.receiptId}/proof?size=2`, 400, 'invalid-request'],
        ['/v1/log/shop/consistency', 400, 'invalid-request'],
        ['/v1/log/shop/consistency?from=2&to=1', 400, 'invalid-request'],
        ['/v1/log/shop/consistency?from=1&to=3', 400, 'invalid-request'],
        ['/v1/log/shop/consistency?from=abc', 400, 'invalid-request'],
        ['/v1/log/other/consistency?from=0', 404, 'not-found'],
        ['/v1/log/other/checkpoint', 404, 'not-found'],
        ['/v1/log/NOT_A_SITE/checkpoint', 400, 'invalid-request'],
      ];
      for (const [path, status, code] of cases) {
        const res = await get(path);
        expect([path, res.status]).toEqual([path, status]);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(((await res.json()) as { type: string }).type).toBe(`https://assenso.dev/problems/${code}`);
      }
    });
  });
});
