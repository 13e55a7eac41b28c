/**
 * @module
 * The transparency log over HTTP (docs/transparency.md):
 * - `GET /v1/log/:site/checkpoint`: the latest signed checkpoint (JSON, or the bare note with `Accept: text/plain`);
 * - `GET /v1/receipts/:id/proof[?treeSize=]`: a receipt, its leaf index and inclusion proof against the latest
 *   checkpoint (or the one of that size); 202 while it is not yet in a checkpoint;
 * - `GET /v1/log/:site/consistency?from=&to=`: the consistency proof between two sizes.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import type { ConsistencyProofResponse, ReceiptProofPending } from '../../protocol/log.ts';
import { ReceiptIdSchema, SiteIdSchema } from '../../protocol/receipt.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { latestCheckpoint } from '../log/checkpoints-repo.ts';
import {
  InvalidProofRequestError,
  ProofPendingError,
  proveConsistency,
  proveReceipt,
  UnknownCheckpointError,
  UnknownReceiptError,
} from '../log/proofs.ts';
import { checkpointJson, hashHex, receiptProofJson } from '../log/wire.ts';

/** How long a client waits before asking again for a proof still pending (the sequencer runs every second). */
const RETRY_AFTER_SECONDS = 2;

const Size = v.pipe(
  v.string(),
  v.regex(/^(0|[1-9][0-9]{0,15})$/, 'must be a non-negative integer'),
  v.transform(Number),
);
const ProofQuery = v.strictObject({ treeSize: v.optional(Size) });
const ConsistencyQuery = v.strictObject({ from: Size, to: v.optional(Size) });

function parse<T extends v.GenericSchema>(schema: T, value: unknown, what: string): v.InferOutput<T> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  throw new HttpProblem(400, 'invalid-request', `Invalid ${what}`, {
    errors: result.issues.map((i) => `${v.getDotPath(i) ?? what}: ${i.message}`),
  });
}

/** The log's errors as problem+json. */
function problemOf(err: unknown): never {
  if (err instanceof UnknownReceiptError || err instanceof UnknownCheckpointError)
    throw new HttpProblem(404, 'not-found', err.message);
  if (err instanceof InvalidProofRequestError) throw new HttpProblem(400, 'invalid-request', err.message);
  throw err;
}

export function logRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/v1/log/:site/checkpoint', async (c) => {
    const site = parse(SiteIdSchema, c.req.param('site'), 'site id');
    const head = await latestCheckpoint(deps.db, site);
    if (!head) throw new HttpProblem(404, 'not-found', `No checkpoint for site ${site} yet`);
    // The head changes as receipts arrive: caches must ask again, but may use a conditional request.
    c.header('Cache-Control', 'no-cache');
    c.header('ETag', `"${head.treeSize}-${head.createdAt}"`);
    if (
      (c.req.header('accept') ?? '').includes('text/plain') &&
      !(c.req.header('accept') ?? '').includes('json')
    )
      return c.text(head.note);
    return c.json(checkpointJson(head));
  });

  app.get('/v1/receipts/:id/proof', async (c) => {
    const id = parse(ReceiptIdSchema, c.req.param('id'), 'receipt id');
    const { treeSize } = parse(ProofQuery, c.req.query(), 'query');
    try {
      const proof = await proveReceipt(deps.db, id, treeSize === undefined ? {} : { treeSize });
      // A proof against a fixed checkpoint never changes.
      c.header('Cache-Control', treeSize === undefined ? 'no-cache' : 'public, max-age=86400, immutable');
      return c.json(receiptProofJson(proof));
    } catch (err) {
      if (!(err instanceof ProofPendingError)) problemOf(err);
      c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      c.header('Cache-Control', 'no-store');
      const body: ReceiptProofPending = {
        receiptId: err.leaf.receiptId,
        siteId: err.leaf.siteId,
        status: 'pending',
        retryAfter: RETRY_AFTER_SECONDS,
      };
      return c.json(body, 202);
    }
  });

  app.get('/v1/log/:site/consistency', async (c) => {
    const site = parse(SiteIdSchema, c.req.param('site'), 'site id');
    const { from, to } = parse(ConsistencyQuery, c.req.query(), 'query');
    try {
      const p = await proveConsistency(deps.db, site, from, to);
      c.header('Cache-Control', to === undefined ? 'no-cache' : 'public, max-age=86400, immutable');
      return c.json({
        siteId: site,
        from: p.from,
        to: p.to,
        consistencyProof: p.proof.map(hashHex),
        checkpoint: checkpointJson(p.checkpoint),
      } satisfies ConsistencyProofResponse);
    } catch (err) {
      problemOf(err);
    }
  });
  return app;
}
