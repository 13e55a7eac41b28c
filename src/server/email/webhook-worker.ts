/**
 * @module
 * Delivers queued webhook events: signed (webhook-signature.ts), at least once (the receiver dedupes by
 * `Assenso-Event-Id`), in order per person and endpoint (webhooks-repo.ts claims only a subject's head), retried
 * with exponential back-off. After `maxAttempts` failures an event is marked `dead` so that the person's later
 * events still flow: every event carries the person's full current preferences, so the receiver converges.
 */
import type { Logger } from 'pino';
import type { Db } from '../db/db.ts';
import type { EmailSite } from './config-schema.ts';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature.ts';
import { claimDeliveries, type DeliveryRow, markDelivered, markFailed } from './webhooks-repo.ts';

export interface WebhookRetryPolicy {
  /** Delay after the first failure, ms; doubles with each further failure. */
  baseMs: number;
  /** Longest delay between two attempts, ms. */
  maxMs: number;
  /** Attempts before an event is given up. */
  maxAttempts: number;
}

/** 30 s, 1 min, 2 min … capped at 1 h; 20 attempts span about 14 hours. */
export const DEFAULT_RETRY: WebhookRetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 20 };

export interface WebhookWorkerDeps {
  db: Db;
  sites: () => readonly EmailSite[];
  now: () => number;
  logger: Logger;
  fetch?: typeof fetch;
  retry?: Partial<WebhookRetryPolicy>;
  /** How long a claim holds a row before another worker may take it over, ms. */
  leaseMs?: number;
  /** Timeout of one HTTP request, ms. */
  timeoutMs?: number;
  /** Rows claimed per round. */
  batch?: number;
}

export interface WebhookWorker {
  /** One round: claims the due heads, delivers them (in parallel across subjects); returns how many it tried. */
  runOnce(): Promise<number>;
  /** Rounds until nothing is due (tests, `assenso webhooks flush`). */
  drain(maxRounds?: number): Promise<number>;
  /** Polls every `intervalMs` until the returned stop() is awaited. */
  start(intervalMs?: number): () => Promise<void>;
}

/** Delay before attempt `attempts + 1`, after `attempts` failures. */
export function backoffDelay(policy: WebhookRetryPolicy, attempts: number): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
}

export function createWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const policy = { ...DEFAULT_RETRY, ...deps.retry };
  const doFetch = deps.fetch ?? fetch;
  const leaseMs = deps.leaseMs ?? 60_000;
  const timeoutMs = deps.timeoutMs ?? 10_000;

  const secretOf = (d: DeliveryRow) =>
    deps
      .sites()
      .find((s) => s.id === d.siteId)
      ?.webhooks.find((w) => w.url === d.endpoint)?.secret;

  async function deliver(d: DeliveryRow): Promise<void> {
    const secret = secretOf(d);
    const fail = async (status: number | null, error: string) => {
      const attempts = d.attempts + 1;
      const retryAt =
        secret && attempts < policy.maxAttempts ? deps.now() + backoffDelay(policy, attempts) : null;
      await markFailed(deps.db, d.seq, { status, error, retryAt });
      deps.logger.warn(
        { webhook: d.endpoint, eventId: d.eventId, attempts, status, error, gaveUp: retryAt === null },
        'webhook delivery failed',
      );
    };
    if (!secret) return fail(null, 'endpoint no longer configured for the site');
    try {
      const res = await doFetch(d.endpoint, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'assenso-webhooks/1',
          'Assenso-Event-Id': d.eventId,
          'Assenso-Delivery-Attempt': String(d.attempts + 1),
          [SIGNATURE_HEADER]: signWebhook(secret, d.payload, deps.now()),
        },
        body: d.payload,
      });
      await res.body?.cancel().catch(() => {});
      if (res.status >= 200 && res.status < 300) await markDelivered(deps.db, d.seq, deps.now(), res.status);
      else await fail(res.status, `HTTP ${res.status}`);
    } catch (err) {
      await fail(null, (err as Error).message);
    }
  }

  const worker: WebhookWorker = {
    async runOnce() {
      const claimed = await deps.db.transaction((tx) =>
        claimDeliveries(tx, { now: deps.now(), leaseMs, limit: deps.batch ?? 20 }),
      );
      await Promise.all(claimed.map(deliver));
      return claimed.length;
    },
    async drain(maxRounds = 1000) {
      let total = 0;
      for (let i = 0; i < maxRounds; i++) {
        const n = await worker.runOnce();
        if (n === 0) break;
        total += n;
      }
      return total;
    },
    start(intervalMs = 1000) {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<unknown> = Promise.resolve();
      const tick = () => {
        running = worker
          .drain(50)
          .catch((err) => deps.logger.error({ err }, 'webhook worker round failed'))
          .finally(() => {
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, 0);
      return async () => {
        stopped = true;
        clearTimeout(timer);
        await running;
      };
    },
  };
  return worker;
}
