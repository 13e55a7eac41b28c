/**
 * @module
 * `POST /v1/receipts`: a batch of up to 100 receipts (body ≤ 64 KiB, JSON sent as application/json or, by
 * sendBeacon, text/plain). Envelope problems answer the whole request (400/403/404/413/415); otherwise
 * 200 with one result per receipt, each with its own status (docs/protocol.md).
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { BatchEnvelopeSchema, type BatchResponse, MAX_BODY_BYTES } from '../../protocol/api.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { HttpProblem } from '../errors.ts';
import { requestHost } from '../http/client-ip.ts';
import { jsonAnswer } from '../http/answer-headers.ts';
import { allowedOrigins } from '../http/cors.ts';
import { readJsonBody } from '../http/json-body.ts';
import { createGroupCommitter } from '../ingest/group-commit.ts';
import { createMetrics } from '../metrics.ts';
import { createFirstPartyCookies } from '../services/first-party-cookie.ts';
import type { RequestOrigin } from '../services/origin-policy.ts';
import { createReceiptRecorder } from '../services/record-receipts.ts';

const NO_STORE = { 'cache-control': 'no-store' };

export function receiptsRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const hooks = deps.receiptHooks ?? [];
  // Hooks need the transaction of their batch; without any, concurrent requests share one commit.
  const recorder = createReceiptRecorder({
    ...deps,
    hooks,
    ...(hooks.length === 0 ? { committer: createGroupCommitter(deps) } : {}),
  });
  const origins = allowedOrigins(deps.config);
  const firstParty = createFirstPartyCookies(deps);
  const counted = (deps.metrics ?? createMetrics()).counter(
    'assenso_receipts_total',
    'Receipts received, by outcome (stored, duplicate, rejected).',
  );

  app.post('/v1/receipts', async (c) => {
    const from: RequestOrigin = {};
    const origin = c.req.header('origin');
    const secFetchSite = c.req.header('sec-fetch-site');
    if (origin !== undefined) from.origin = origin;
    if (secFetchSite !== undefined) from.secFetchSite = secFetchSite;
    // Refused before reading the body: a page of no configured site, or a cross-site browser request that hides its origin.
    if (
      origin !== undefined
        ? !origins.has(origin)
        : secFetchSite === 'cross-site' || secFetchSite === 'same-site'
    )
      throw new HttpProblem(
        403,
        'origin-not-allowed',
        `Origin ${origin ?? '(hidden)'} may not send receipts here`,
      );

    const body = await readJsonBody(c, MAX_BODY_BYTES);
    const envelope = v.safeParse(BatchEnvelopeSchema, body);
    if (!envelope.success)
      throw new HttpProblem(400, 'invalid-request', 'The body must be {"receipts": [1 to 100 receipts]}', {
        errors: envelope.issues.map((i) => `${v.getDotPath(i) ?? '(body)'}: ${i.message}`),
      });

    const results = await recorder.record(envelope.output.receipts, { origin: from });
    for (const r of results) counted.inc({ outcome: r.outcome });
    const cookies = await firstParty.cookiesFor(
      results,
      origin,
      requestHost(c, deps.config.trustProxy),
      c.req.header('cookie'),
    );
    return jsonAnswer(c, { results } satisfies BatchResponse, 200, NO_STORE, cookies);
  });
  return app;
}
